package dev.torus.metadata;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one lease alive and is the watchdog for everything that hangs on it. Thread-safe.
 *
 * <p>The keeper renews every third of the TTL. It counts the lease as valid only until the TTL has
 * passed since the start of the last renewal the backend confirmed, so it never believes in a
 * lease longer than the backend does. When that time passes, or the backend says the lease is
 * gone, the lease is lost for good: {@link #isValid()} turns false and the loss listeners run. A
 * writer checks {@link #checkValid()} before acknowledging anything, which is what fences a writer
 * that was cut off from metadata.
 */
public final class LeaseKeeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  /**
   * The shortest TTL a keeper takes: 2 s. etcd silently extends shorter leases to its minimum
   * (1.5 election timeouts rounded up to whole seconds, 2 s with its default settings), so a
   * shorter TTL would not be the one in effect and this watchdog would time a different lease
   * than etcd does.
   */
  public static final Duration MIN_TTL = Duration.ofSeconds(2);

  private final LeaseService leases;
  private final long leaseId;
  private final Duration ttl;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanoClock;
  private final List<Runnable> lossListeners = new CopyOnWriteArrayList<>();
  private final ScheduledFuture<?> renewals;
  private volatile long validUntilNanos;
  private volatile boolean lost;
  private volatile boolean closed;
  private @Nullable String lossReason;

  private LeaseKeeper(
      LeaseService leases, long leaseId, Duration ttl, long grantedAtNanos,
      ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    this.leases = leases;
    this.leaseId = leaseId;
    this.ttl = ttl;
    this.scheduler = scheduler;
    this.nanoClock = nanoClock;
    this.validUntilNanos = grantedAtNanos + ttl.toNanos();
    long period = Math.max(1, ttl.toMillis() / 3);
    this.renewals = scheduler.scheduleWithFixedDelay(this::renew, period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * Grants a lease of {@code ttl} and starts keeping it alive on {@code scheduler}; {@code
   * nanoClock} is a monotonic clock ({@code System::nanoTime} outside tests).
   */
  public static CompletableFuture<LeaseKeeper> start(
      LeaseService leases, Duration ttl, ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    if (ttl.compareTo(MIN_TTL) < 0) {
      throw TorusExceptions.invalid("lease TTL must be at least 2s (etcd's minimum), got "
          + ttl.toMillis() + "ms");
    }
    long start = nanoClock.getAsLong();
    return leases.grant(ttl)
        .thenApply(id -> new LeaseKeeper(leases, id, ttl, start, scheduler, nanoClock));
  }

  /** The lease id to attach records to. */
  public long leaseId() {
    return leaseId;
  }

  /** The lease's time to live. */
  public Duration ttl() {
    return ttl;
  }

  /** Whether the lease is still certainly alive. */
  public boolean isValid() {
    if (lost) {
      return false;
    }
    if (nanoClock.getAsLong() - validUntilNanos >= 0) {
      markLost("not renewed within its TTL of " + ttl.toMillis() + " ms (metadata unreachable?)");
      return false;
    }
    return true;
  }

  /** Fails with {@code LOCKED} if the lease was lost; call before acknowledging a write. */
  public void checkValid() {
    if (!isValid()) {
      throw new TorusException(
          ErrorCode.LOCKED, "lease " + Long.toHexString(leaseId) + " was lost: " + lossReason
              + "; the volume lock is gone and writes are refused, reopen the volume");
    }
  }

  /** Runs {@code listener} once if the lease is lost (immediately if it already is). */
  public void onLost(Runnable listener) {
    lossListeners.add(listener);
    if (lost) {
      listener.run();
    }
  }

  private void renew() {
    if (closed || lost) {
      return;
    }
    long start = nanoClock.getAsLong();
    leases.keepAlive(leaseId).whenComplete((remaining, error) -> {
      if (error == null) {
        long until = start + Math.min(remaining.toNanos(), ttl.toNanos());
        if (until - validUntilNanos > 0) {
          validUntilNanos = until;
        }
        return;
      }
      TorusException e = TorusExceptions.unwrap(error);
      if (e.code() == ErrorCode.NOT_FOUND) {
        markLost("the metadata service says it expired");
      } else {
        log.warn("renewing lease {} failed: {}", Long.toHexString(leaseId), e.getMessage());
        isValid(); // marks the lease lost if its time is up
      }
    });
  }

  private void markLost(String reason) {
    synchronized (this) {
      if (lost || closed) {
        return;
      }
      lossReason = reason;
      lost = true;
    }
    renewals.cancel(false);
    log.error("lease {} lost: {}", Long.toHexString(leaseId), reason);
    for (Runnable r : lossListeners) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.error("lease loss listener failed", e);
      }
    }
  }

  /** Stops renewing and revokes the lease; waits briefly for the revoke. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    renewals.cancel(false);
    if (!lost) {
      try {
        leases.revoke(leaseId).get(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        log.warn("revoking lease {} failed (it expires on its own): {}", Long.toHexString(leaseId),
            e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "LeaseKeeper[" + Long.toHexString(leaseId) + ", " + scheduler + "]";
  }
}
