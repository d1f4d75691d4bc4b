package dev.torus.metadata.embedded;

import dev.torus.TorusException;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.kv.Range;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watch on a {@link SqliteKvStore}: polls the store's revision on a scheduler and delivers the
 * range under its prefix when that changed.
 *
 * <p>Concurrency: {@link #poll()} is synchronized, so the periodic poll and the pokes that local
 * commits send never overlap, and callbacks run one at a time. A range is delivered only if its
 * revision is newer than the last one delivered and its keys or their revisions differ, so
 * callbacks never go backwards and a change elsewhere in the store delivers nothing. Failures
 * (another process holding the file for long) are logged once per streak; the next poll retries.
 */
final class PollingWatch implements Subscription {
  private static final Logger log = LoggerFactory.getLogger(PollingWatch.class);

  private final SqliteKvStore store;
  private final String prefix;
  private final Consumer<Range> onChange;
  private final Consumer<PollingWatch> onClose;
  private volatile @Nullable ScheduledFuture<?> task;
  private long polledRevision = -1;
  private @Nullable Range delivered;
  private boolean failing;
  private volatile boolean closed;

  PollingWatch(SqliteKvStore store, String prefix, Consumer<Range> onChange,
      Consumer<PollingWatch> onClose) {
    this.store = store;
    this.prefix = prefix;
    this.onChange = onChange;
    this.onClose = onClose;
  }

  void start(ScheduledExecutorService scheduler, Duration interval) {
    task = scheduler.scheduleWithFixedDelay(this::poll, 0, interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Asks for a poll soon: a local commit changed something. */
  void poke(ScheduledExecutorService scheduler) {
    if (closed) {
      return;
    }
    try {
      scheduler.execute(this::poll);
    } catch (RejectedExecutionException e) {
      // the scheduler is shutting down: so is everything that watches
    }
  }

  synchronized void poll() {
    if (closed) {
      return;
    }
    Range range;
    try {
      if (store.revisionNow() == polledRevision) {
        return;
      }
      range = store.rangeNow(prefix);
      polledRevision = range.revision();
      if (failing) {
        failing = false;
        log.info("watch on {} in {} recovered", prefix, store.location());
      }
    } catch (SQLException | TorusException e) {
      if (!closed && !failing) {
        failing = true;
        log.warn("watch on {} in {} cannot poll, retrying: {}", prefix, store.location(),
            e.getMessage());
      }
      return;
    }
    Range last = delivered;
    if (last != null && (range.revision() <= last.revision() || range.sameVersionsAs(last))) {
      return;
    }
    delivered = range;
    try {
      onChange.accept(range);
    } catch (RuntimeException e) {
      log.error("watch callback on {} failed", prefix, e);
    }
  }

  @Override
  public void close() {
    closed = true;
    ScheduledFuture<?> t = task;
    if (t != null) {
      t.cancel(false);
    }
    onClose.accept(this);
  }
}
