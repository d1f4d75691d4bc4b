package dev.torus.distributor;

import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerInfo;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a storage node's record in the peer registry: written on a lease at start, refreshed with
 * current capacity and usage every interval, and removed on {@link #close()}. If the lease is lost
 * (metadata unreachable for longer than its TTL) the next beat takes a new one, so a node that
 * comes back reappears on its own. Thread-safe.
 */
public final class Heartbeat implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

  private final MetadataService metadata;
  private final Supplier<PeerInfo> info;
  private final Duration ttl;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanoClock;
  private final ScheduledFuture<?> beats;
  private @Nullable LeaseKeeper keeper;
  private boolean closed;
  private volatile @Nullable String failure;

  private Heartbeat(MetadataService metadata, Supplier<PeerInfo> info, Duration ttl,
      Duration interval, ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    this.metadata = metadata;
    this.info = info;
    this.ttl = ttl;
    this.scheduler = scheduler;
    this.nanoClock = nanoClock;
    beat(); // the first registration must work, or the node must not start
    long every = interval.toMillis();
    this.beats = scheduler.scheduleWithFixedDelay(this::beatQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Registers the node now (failing if metadata is unreachable) and then every {@code interval};
   * {@code info} is asked for the current record each time.
   */
  public static Heartbeat start(MetadataService metadata, Supplier<PeerInfo> info, Duration ttl,
      Duration interval, ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    return new Heartbeat(metadata, info, ttl, interval, scheduler, nanoClock);
  }

  private synchronized void beat() {
    if (closed) {
      return;
    }
    if (keeper == null || !keeper.isValid()) {
      if (keeper != null) {
        log.warn("heartbeat lease lost; registering again with a new lease");
        keeper.close();
      }
      keeper = Futures.join(LeaseKeeper.start(metadata.leases(), ttl, scheduler, nanoClock));
    }
    Futures.join(metadata.peers().register(info.get(), keeper.leaseId()), ttl);
  }

  private void beatQuietly() {
    try {
      beat();
      failure = null;
    } catch (RuntimeException e) {
      failure = TorusExceptions.unwrap(e).getMessage();
      log.warn("heartbeat failed: {}", failure);
    }
  }

  /** Why the last heartbeat failed, or empty if it registered the node. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** Stops beating and removes the node's record. */
  @Override
  public void close() {
    beats.cancel(false);
    LeaseKeeper k;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      k = keeper;
    }
    try {
      Futures.join(metadata.peers().deregister(info.get().id()), Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.warn("deregistering failed (the record expires with its lease): {}", e.getMessage());
    }
    if (k != null) {
      k.close();
    }
  }
}
