package dev.torus.gc;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.ClusterView;
import dev.torus.metadata.LockInfo;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.VolumeState;
import dev.torus.storage.BlockStore;
import dev.torus.storage.StoreStats;
import dev.torus.volume.VolumeService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes blocks from a local store that nothing can reach. Thread-safe; one cycle at a time.
 *
 * <p>Safety, the only thing that matters here: a cycle starts from one consistent {@link
 * ClusterView} and walks every volume's committed map and every snapshot's map (through the
 * cluster, since pages may live elsewhere). If the view or any map page cannot be read, the cycle
 * deletes nothing (the Go original deleted live data on a transient etcd error). A block the walk
 * did not reach is still kept when it may belong to a writer that has not committed it yet:
 * <ul>
 *   <li>its volume id is above the highest id in the view (the volume was created after it);
 *   <li>its session is above the volume's last session in the view (opened after it);
 *   <li>its session holds the volume's lock, and either has not committed yet or allocated the
 *       block after the start of its last commit ({@link VolumeRoot#highWater()}).
 * </ul>
 * And an unreachable block is deleted only once it was unreachable in two cycles at least the
 * grace period apart, so a reader that opened an older root just before a commit can finish.
 *
 * <p>Pace: a cycle every {@link GcConfig#interval()}; while the local store is short of space
 * ({@link GcConfig.Pressure}), every pressure interval with the pressure grace where those are
 * shorter, so that garbage from overwrites is reclaimed within seconds instead of minutes.
 */
public final class GarbageCollector implements AutoCloseable, MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);

  private final MetadataService metadata;
  private final VolumeService volumes;
  private final BlockStore local;
  private final GcConfig config;
  private final LongSupplier nanoClock;
  private final AtomicBoolean running = new AtomicBoolean();
  private final Map<BlockRef, Long> candidates = new HashMap<>(); // first seen dead, nanos
  private @Nullable ScheduledFuture<?> schedule;
  private volatile long lastStart; // nanos, of the last cycle or start()
  private volatile boolean shortOfSpace;
  private final AtomicLong cycles = new AtomicLong();
  private final AtomicLong skippedCycles = new AtomicLong();
  private final AtomicLong deleted = new AtomicLong();

  private GarbageCollector(MetadataService metadata, VolumeService volumes, BlockStore local,
      GcConfig config, LongSupplier nanoClock) {
    this.metadata = metadata;
    this.volumes = volumes;
    this.local = local;
    this.config = config;
    this.nanoClock = nanoClock;
  }

  /**
   * A collector for {@code local}, walking maps through {@code volumes} (whose store may be the
   * whole cluster). {@code nanoClock} is monotonic ({@code System::nanoTime} outside tests).
   */
  public static GarbageCollector create(MetadataService metadata, VolumeService volumes,
      BlockStore local, GcConfig config, LongSupplier nanoClock) {
    return new GarbageCollector(metadata, volumes, local, config, nanoClock);
  }

  /**
   * Runs {@link #runOnce()} on {@code scheduler} every {@link GcConfig#interval()}, or every
   * pressure interval while the store is short of space.
   */
  public synchronized void start(ScheduledExecutorService scheduler) {
    if (schedule != null) {
      throw new IllegalStateException("already started");
    }
    lastStart = nanoClock.getAsLong();
    long tick = Math.min(config.interval().toMillis(), config.pressure().interval().toMillis());
    schedule = scheduler.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
  }

  /**
   * Starts a cycle if one is due and none is running; completes with its result, or with null
   * when none was started.
   */
  CompletableFuture<@Nullable GcResult> tick() {
    Duration every = pressed() && config.pressure().interval().compareTo(config.interval()) < 0
        ? config.pressure().interval()
        : config.interval();
    if (running.get() || nanoClock.getAsLong() - lastStart < every.toNanos()) {
      return CompletableFuture.completedFuture(null);
    }
    return runOnce().whenComplete((r, e) -> {
      if (e != null) {
        log.warn("garbage collection failed: {}", TorusExceptions.unwrap(e).getMessage());
      } else if (r.deleted() > 0 || r.skipped().isPresent()) {
        log.info("garbage collection: {}", r);
      }
    });
  }

  /**
   * One cycle, with the pressure grace if the store is short of space. Completes with what it did;
   * never deletes anything when it cannot be sure.
   */
  public CompletableFuture<GcResult> runOnce() {
    if (!running.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(GcResult.skipped("a cycle is already running"));
    }
    lastStart = nanoClock.getAsLong();
    Duration grace = pressed() && config.pressure().grace().compareTo(config.grace()) < 0
        ? config.pressure().grace()
        : config.grace();
    return metadata.view()
        .handle((view, e) -> e == null ? cycle(view, grace) : skip("metadata unreadable", e))
        .thenCompose(f -> f)
        .whenComplete((r, e) -> {
          running.set(false);
          if (r != null && r.skipped().isEmpty()) {
            cycles.incrementAndGet();
            deleted.addAndGet(r.deleted());
          } else {
            skippedCycles.incrementAndGet();
          }
        });
  }

  private CompletableFuture<GcResult> skip(String why, Throwable e) {
    String reason = why + ": " + TorusExceptions.unwrap(e).getMessage();
    log.warn("garbage collection skipped, nothing deleted: {}", reason);
    return CompletableFuture.completedFuture(GcResult.skipped(reason));
  }

  /** Whether the local store is short of space now; logs when that changes. */
  private boolean pressed() {
    StoreStats stats;
    try {
      stats = local.stats();
    } catch (RuntimeException e) { // a closed store: its own calls will say so
      return false;
    }
    // Ten points of hysteresis: collecting every few seconds frees garbage, which would end the
    // pressure at once, and garbage would pile up for a whole normal interval again.
    double from = shortOfSpace
        ? config.pressure().usedFraction() - 0.1
        : config.pressure().usedFraction();
    boolean pressed =
        stats.capacityBlocks() > 0 && stats.usedBlocks() >= from * stats.capacityBlocks();
    if (pressed != shortOfSpace) {
      shortOfSpace = pressed;
      long percent = 100 * stats.usedBlocks() / Math.max(1, stats.capacityBlocks());
      if (pressed) {
        log.info("{} is {}% full: collecting garbage every {} s with {} s grace", local, percent,
            config.pressure().interval().toSeconds(), config.pressure().grace().toSeconds());
      } else {
        log.info("{} is {}% full: collecting garbage every {} s again", local, percent,
            config.interval().toSeconds());
      }
    }
    return pressed;
  }

  private CompletableFuture<GcResult> cycle(ClusterView view, Duration grace) {
    LiveSet live = new LiveSet();
    List<CompletableFuture<Void>> walks = new ArrayList<>();
    for (VolumeState v : view.volumes()) {
      walks.add(volumes.walk(v.root(), live::add, live::add));
      for (SnapshotInfo s : v.snapshots()) {
        walks.add(volumes.walk(s.root(), live::add, live::add));
      }
    }
    return Futures.allOf(walks)
        .thenCompose(x -> local.listBlocks())
        .handle((refs, e) -> e == null
            ? sweep(view, live, refs, grace)
            : skip("a map is unreadable", e))
        .thenCompose(f -> f);
  }

  private CompletableFuture<GcResult> sweep(
      ClusterView view, LiveSet live, List<BlockRef> refs, Duration grace) {
    Map<VolumeId, VolumeState> byId = new HashMap<>();
    view.volumes().forEach(v -> byId.put(v.info().id(), v));
    long now = nanoClock.getAsLong();
    List<BlockRef> doomed = new ArrayList<>();
    long fresh = 0;
    synchronized (candidates) {
      Map<BlockRef, Long> seen = new HashMap<>();
      for (BlockRef ref : refs) {
        if (!isDead(ref, view, byId, live)) {
          continue;
        }
        Long first = candidates.get(ref);
        if (now - (first == null ? now : first) >= grace.toNanos()) {
          doomed.add(ref);
        } else {
          seen.put(ref, first == null ? now : first);
          fresh += first == null ? 1 : 0;
        }
      }
      candidates.clear();
      candidates.putAll(seen);
    }
    long candidateCount = fresh;
    return delete(doomed, 0).thenApply(deleted ->
        new GcResult(Optional.empty(), refs.size(), live.size(), candidateCount, deleted));
  }

  static boolean isDead(BlockRef ref, ClusterView view, Map<VolumeId, VolumeState> byId, LiveSet live) {
    if (live.contains(ref)) {
      return false;
    }
    VolumeState v = byId.get(ref.volume());
    if (v == null) {
      return ref.volume().value() <= view.lastVolumeId(); // deleted, not yet created
    }
    if (ref.inode() > v.lastSession()) {
      return false; // a session opened after the view
    }
    LockInfo lock = v.lock().orElse(null);
    if (lock != null && lock.session() == ref.inode()) {
      return v.root().session() == ref.inode() && ref.index() <= v.root().highWater();
    }
    return true;
  }

  private CompletableFuture<Long> delete(List<BlockRef> doomed, int from) {
    if (from >= doomed.size()) {
      return CompletableFuture.completedFuture(0L);
    }
    int to = Math.min(doomed.size(), from + config.batch());
    List<CompletableFuture<Void>> batch = new ArrayList<>();
    for (BlockRef ref : doomed.subList(from, to)) {
      batch.add(local.deleteBlock(ref));
    }
    long n = to - from;
    return Futures.allOf(batch).thenCompose(x -> delete(doomed, to)).thenApply(rest -> rest + n);
  }

  /**
   * Registers {@code torus_gc_cycles} (tagged {@code outcome=completed|skipped}: skipped cycles
   * delete nothing because metadata or a map could not be read), {@code torus_gc_deleted_blocks}
   * and {@code torus_gc_short_of_space} (1 while the store is short of space).
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("torus_gc_cycles", cycles, AtomicLong::get)
        .tag("outcome", "completed").register(registry);
    FunctionCounter.builder("torus_gc_cycles", skippedCycles, AtomicLong::get)
        .tag("outcome", "skipped").register(registry);
    FunctionCounter.builder("torus_gc_deleted_blocks", deleted, AtomicLong::get).register(registry);
    Gauge.builder("torus_gc_short_of_space", this, gc -> gc.shortOfSpace ? 1 : 0).register(registry);
  }

  /** Stops the schedule; a running cycle finishes. */
  @Override
  public synchronized void close() {
    if (schedule != null) {
      schedule.cancel(false);
    }
  }
}
