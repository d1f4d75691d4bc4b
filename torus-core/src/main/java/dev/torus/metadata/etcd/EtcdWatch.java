package dev.torus.metadata.etcd;

import static dev.torus.metadata.etcd.EtcdKvStore.bytes;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.SerialExecutor;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.kv.KeyValue;
import dev.torus.metadata.kv.Range;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watch of a prefix on etcd that keeps the full range under it and delivers it after every
 * change, across etcd restarts and compactions.
 */
final class EtcdWatch implements Subscription {
  /*
   * State: the range under the prefix as a sorted map and the revision it is at. It is touched
   * only on `serial` (a SerialExecutor on the injected scheduler): jetcd's gRPC threads only
   * enqueue, and callbacks run one at a time in order.
   *
   * Life: resync() reads the range, delivers it, and starts an etcd watch from its revision + 1,
   * so no change between the read and the watch is missed. Each WatchResponse applies its events
   * (all events of a revision arrive in one response) and delivers the result at the revision of
   * its last event.
   *
   * Failure: jetcd resumes a stream broken by a restart by itself, from the last revision it saw.
   * What it cannot resume reaches the listener: a compaction of the revision the watch needs, a
   * halting error, the stream ending. Then the watch resyncs: re-read, deliver if changed, watch
   * from the new revision + 1; while etcd is unreachable it retries with backoff (100 ms doubling
   * to 5 s). A generation number makes the abandoned watcher's late callbacks harmless. A range is
   * delivered only if newer than the last one delivered and different from it, so callbacks never
   * go backwards and a resync that found nothing new is silent.
   */
  private static final Logger log = LoggerFactory.getLogger(EtcdWatch.class);
  private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final EtcdKvStore store;
  private final Watch watchClient;
  private final String prefix;
  private final Consumer<Range> onChange;
  private final Executor serial;
  private final Consumer<EtcdWatch> onClose;
  private final TreeMap<String, KeyValue> state = new TreeMap<>();
  private long revision;
  private @Nullable Range delivered;
  private int generation;
  private int failures;
  private Watch.@Nullable Watcher watcher;
  private volatile boolean closed;

  EtcdWatch(EtcdKvStore store, Watch watchClient, String prefix, Consumer<Range> onChange,
      ScheduledExecutorService scheduler, Consumer<EtcdWatch> onClose) {
    this.store = store;
    this.watchClient = watchClient;
    this.prefix = prefix;
    this.onChange = onChange;
    this.serial = new SerialExecutor(scheduler);
    this.onClose = onClose;
  }

  void start() {
    serial.execute(this::resync);
  }

  private void resync() {
    if (closed) {
      return;
    }
    stopWatcher();
    int gen = ++generation;
    store.range(prefix).whenComplete((range, error) -> serial.execute(() -> {
      if (closed || gen != generation) {
        return;
      }
      if (error != null) {
        retryLater("re-reading the range failed: " + TorusExceptions.unwrap(error).getMessage());
        return;
      }
      state.clear();
      for (KeyValue kv : range.kvs()) {
        state.put(kv.key(), kv);
      }
      revision = range.revision();
      deliver();
      WatchOption option = WatchOption.builder().withRange(EtcdKvStore.prefixEnd(prefix))
          .withRevision(revision + 1).build();
      watcher = watchClient.watch(bytes(prefix), option, Watch.listener(
          response -> serial.execute(() -> onResponse(gen, response)),
          failure -> serial.execute(() -> onBroken(gen, failure)),
          () -> serial.execute(() -> onBroken(gen, null))));
    }));
  }

  private void onResponse(int gen, WatchResponse response) {
    if (closed || gen != generation) {
      return;
    }
    failures = 0;
    for (WatchEvent event : response.getEvents()) {
      io.etcd.jetcd.KeyValue kv = event.getKeyValue();
      String key = kv.getKey().toString(UTF_8);
      switch (event.getEventType()) {
        case PUT -> state.put(key, EtcdKvStore.keyValue(kv));
        case DELETE -> state.remove(key);
        default -> {
          onBroken(gen, new IllegalStateException("unknown watch event " + event.getEventType()));
          return;
        }
      }
      revision = Math.max(revision, kv.getModRevision());
    }
    deliver();
  }

  private void onBroken(int gen, @Nullable Throwable failure) {
    if (closed || gen != generation) {
      return;
    }
    if (failure instanceof CompactedException c) {
      log.info("watch on {} fell behind a compaction at revision {}; re-reading", prefix,
          c.getCompactedRevision());
      resync();
    } else {
      retryLater(failure == null ? "the watch stream ended" : failure.getMessage());
    }
  }

  private void retryLater(String why) {
    stopWatcher();
    long delay = Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(failures, 6));
    failures++;
    if (failures == 1) {
      log.warn("watch on {} at {} interrupted ({}); re-watching", prefix, store.location(), why);
    }
    try {
      store.scheduler().schedule(() -> serial.execute(this::resync), delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // the scheduler is shutting down: so is everything that watches
    }
  }

  private void deliver() {
    Range last = delivered;
    if (closed || (last != null && revision <= last.revision())) {
      return;
    }
    Range range = new Range(revision, List.copyOf(state.values()));
    if (last != null && range.sameVersionsAs(last)) {
      return;
    }
    delivered = range;
    try {
      onChange.accept(range);
    } catch (RuntimeException e) {
      log.error("watch callback on {} failed", prefix, e);
    }
  }

  private void stopWatcher() {
    Watch.Watcher w = watcher;
    watcher = null;
    if (w != null) {
      w.close();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    serial.execute(this::stopWatcher);
    onClose.accept(this);
  }
}
