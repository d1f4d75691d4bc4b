package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.Versioned;
import dev.torus.storage.BlockStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Opens block volumes over a metadata service and a block store; {@link #catalog()} administers
 * them. Thread-safe; every method is asynchronous and fails with a {@link TorusException} whose
 * message says what to do.
 *
 * <p>The service does not own the metadata service, the store or the scheduler; the caller closes
 * them after every volume it opened.
 */
public final class VolumeService implements MeterBinder {
  private final MetadataService metadata;
  private final BlockStore store;
  private final VolumeConfig config;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanoClock;
  private final BlockMap map;
  private final VolumeCatalog catalog;
  private final VolumeCounters counters = new VolumeCounters();
  private final DirtyBudget dirtyBudget;

  private VolumeService(MetadataService metadata, BlockStore store, VolumeConfig config,
      ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    this.metadata = metadata;
    this.store = store;
    this.config = config;
    this.scheduler = scheduler;
    this.nanoClock = nanoClock;
    this.dirtyBudget = new DirtyBudget(config.dirtyLimit().bytes());
    this.map = new BlockMap(new MapGeometry(store.blockSize()), store, config.mapCache().bytes());
    this.catalog = new VolumeCatalog(metadata, scheduler, nanoClock, config.leaseTtl(), config.owner());
  }

  /**
   * A service over {@code metadata} and {@code store}. The store's block size must be the
   * cluster's (checked on every create and open). {@code scheduler} runs lease renewals,
   * background commits and commit pipelines; {@code nanoClock} is a monotonic clock ({@code
   * System::nanoTime} outside tests).
   */
  public static VolumeService create(MetadataService metadata, BlockStore store, VolumeConfig config,
      ScheduledExecutorService scheduler, LongSupplier nanoClock) {
    return new VolumeService(Objects.requireNonNull(metadata, "metadata"),
        Objects.requireNonNull(store, "store"), Objects.requireNonNull(config, "config"),
        Objects.requireNonNull(scheduler, "scheduler"), Objects.requireNonNull(nanoClock, "nanoClock"));
  }

  /** The metadata service volumes are recorded in. */
  public MetadataService metadata() {
    return metadata;
  }

  /** Fails unless the store's block size is the cluster's. */
  private CompletableFuture<GlobalMetadata> checkedGlobal() {
    return metadata.global().thenApply(g -> {
      if (g.blockSize() != store.blockSize()) {
        throw TorusExceptions.invalid("the cluster's block size is " + g.blockSize()
            + " bytes but the block store's is " + store.blockSize() + "; open the store with the"
            + " cluster's block size");
      }
      return g;
    });
  }

  /** Administration that needs only metadata: create, list, delete, grow, snapshot, clone. */
  public VolumeCatalog catalog() {
    return catalog;
  }

  /**
   * Opens a volume for writing: takes its write lock on a new lease (fails with {@code LOCKED},
   * naming the holder, if another writer has it) and starts a write session.
   */
  public CompletableFuture<BlockVolume> openWritable(String name) {
    return checkedGlobal().thenCompose(g -> catalog.get(name)).thenCompose(info ->
        LeaseKeeper.start(metadata.leases(), config.leaseTtl(), scheduler, nanoClock).thenCompose(keeper ->
            metadata.volumes().lock(info.id(), keeper.leaseId(), config.owner())
                .thenCompose(lock -> metadata.volumes().root(info.id())
                    .thenApply(root -> (BlockVolume) open(info, root, new VolumeWriter(lock, keeper),
                        false)))
                .whenComplete((v, e) -> {
                  if (e != null) {
                    keeper.close();
                  }
                })));
  }

  /**
   * Opens a volume read-only at its last committed state; takes no lock. While another writer
   * changes the volume, the reader keeps its state until a block it needs was collected, then
   * moves to the newest committed state; a snapshot ({@link #openSnapshot}) stays where it is.
   */
  public CompletableFuture<BlockVolume> openReadOnly(String name) {
    return checkedGlobal().thenCompose(g -> catalog.get(name)).thenCompose(info ->
        metadata.volumes().root(info.id())
            .thenApply(root -> (BlockVolume) open(info, root, null, true)));
  }

  /** Opens a snapshot read-only. */
  public CompletableFuture<BlockVolume> openSnapshot(String volume, String snapshot) {
    return checkedGlobal().thenCompose(g -> catalog.get(volume)).thenCompose(info ->
        metadata.volumes().getSnapshot(info.id(), snapshot).thenApply(snap ->
            (BlockVolume) open(info, new Versioned<>(snap.root(), 0), null, false)));
  }

  private VolumeHandle open(VolumeInfo info, Versioned<VolumeRoot> root,
      @Nullable VolumeWriter writer, boolean followsCommits) {
    return new VolumeHandle(info, root.value().size(), TreeRoot.of(root.value()), root.revision(),
        followsCommits, map, store, metadata.volumes(), writer, config, scheduler, counters,
        dirtyBudget);
  }

  /**
   * Visits every block reachable from a committed root: each map page through {@code visitPage}
   * (return false to skip a page already seen and its subtree), each data block through {@code
   * visitData}. Fails if any page cannot be read, so a caller never mistakes an unreadable subtree
   * for an empty one.
   */
  public CompletableFuture<Void> walk(VolumeRoot root, Predicate<BlockRef> visitPage,
      Consumer<BlockRef> visitData) {
    return map.walk(TreeRoot.of(root), p -> visitPage.test(p.ref()), d -> visitData.accept(d.ref()));
  }

  /**
   * Registers counters over every volume this service opened: {@code
   * torus_volume_failed_write_backs} (puts of written data the store refused or failed), {@code
   * torus_volume_stalled_writes} (writes that waited for a store that refused data, with the
   * writer's memory full), {@code torus_volume_failed_stalled_writes} (those that gave up) and
   * {@code torus_volume_reclaimed_blocks} (blocks that commits replaced and their writers deleted
   * without waiting for garbage collection) and {@code torus_volume_lost_write_blocks} (blocks
   * whose acknowledged writes were lost because their old content could not be read; each such
   * loss fails the volume's next flush), and the gauge {@code torus_volume_dirty_bytes} (written
   * data the open volumes hold in memory, against {@link VolumeConfig#dirtyLimit()}).
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("torus_volume_failed_write_backs", counters.failedWriteBacks,
        AtomicLong::get).register(registry);
    FunctionCounter.builder("torus_volume_stalled_writes", counters.stalledWrites, AtomicLong::get)
        .register(registry);
    FunctionCounter.builder("torus_volume_failed_stalled_writes", counters.failedStalledWrites,
        AtomicLong::get).register(registry);
    FunctionCounter.builder("torus_volume_reclaimed_blocks", counters.reclaimedBlocks,
        AtomicLong::get).register(registry);
    FunctionCounter.builder("torus_volume_lost_write_blocks", counters.lostWriteBlocks,
        AtomicLong::get).register(registry);
    Gauge.builder("torus_volume_dirty_bytes", dirtyBudget, DirtyBudget::bytes)
        .baseUnit("bytes").register(registry);
  }
}
