package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeMetadata;
import dev.torus.metadata.VolumeRoot;
import dev.torus.storage.BlockStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the data blocks that a writer's landed commits replaced, shortly after each commit,
 * unless a snapshot or a clone may still hold them; those stay for the garbage collector.
 *
 * <p>Why: a volume under overwrites can replace its whole size with every commit, and the
 * collector, which walks every map and waits out a grace period twice, frees that garbage minutes
 * later (seconds when the store is short of space). Meanwhile the store holds several copies of
 * the volume, and one sized for less fills up. The writer knows exactly what its commit replaced.
 *
 * <p>Safety: a replaced block is in no map but older roots of this volume. It is deleted only when
 * nothing can hold such a root:
 * <ul>
 *   <li>Only blocks with this volume's id: blocks a clone shares with its origin keep the
 *       origin's.
 *   <li>A snapshot may hold a block of session {@code s} and index {@code i} only if a later
 *       session committed its root, or session {@code s} at a high-water mark of at least {@code
 *       i} (a commit gives its blocks their refs before it reads its mark). Such blocks are kept.
 *       The snapshots are read after the commit landed, and a snapshot is taken by
 *       compare-and-swap on the root, so none of an older root can appear later.
 *   <li>While a clone of this volume exists nothing is deleted: the clone may hold blocks of a
 *       snapshot that was deleted since.
 * </ul>
 * Readers: the delay lets reads that started on an older root finish. A writer's read that still
 * finds its block gone reads again from the newer tree, and a read-only opener moves to the newest
 * root ({@link VolumeHandle}). Whatever is not deleted here (a failed check or delete) the
 * collector deletes as before.
 *
 * <p>Thread-safe.
 */
final class SupersededBlocks {
  private static final Logger log = LoggerFactory.getLogger(SupersededBlocks.class);
  private static final int DELETES_IN_FLIGHT = 64;

  private final VolumeInfo volume;
  private final VolumeMetadata metadata;
  private final BlockStore store;
  private final ScheduledExecutorService scheduler;
  private final Duration delay;
  private final VolumeCounters counters;
  // Guarded by this.
  private List<BlockRef> waiting = new ArrayList<>();
  private boolean scheduled;
  private boolean closed;

  SupersededBlocks(VolumeInfo volume, VolumeMetadata metadata, BlockStore store,
      ScheduledExecutorService scheduler, Duration delay, VolumeCounters counters) {
    this.volume = volume;
    this.metadata = metadata;
    this.store = store;
    this.scheduler = scheduler;
    this.delay = delay;
    this.counters = counters;
  }

  /** A commit that replaced {@code replaced} landed: deletes them after the delay where safe. */
  void add(List<BlockRef> replaced) {
    synchronized (this) {
      if (closed) {
        return;
      }
      for (BlockRef ref : replaced) {
        if (ref.type() == BlockType.DATA && ref.volume().equals(volume.id())) {
          waiting.add(ref);
        }
      }
      if (waiting.isEmpty() || scheduled) {
        return;
      }
      scheduled = true;
    }
    try {
      scheduler.schedule(this::reclaim, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      log.debug("volume '{}': not deleting replaced blocks, the scheduler stopped", volume.name());
    }
  }

  /**
   * The writer closed: deletes what is waiting without the delay, since no read of this writer
   * can still need it (and readers of the volume move on when a block is gone), and takes nothing
   * more. Does not wait for the deletes. Without this, every client that disconnects would leave
   * the last commit's replaced blocks, up to the whole volume, to the collector.
   */
  void close() {
    List<BlockRef> batch;
    synchronized (this) {
      closed = true;
      batch = waiting;
      waiting = new ArrayList<>();
    }
    checkAndDelete(batch);
  }

  /** Checks the waiting blocks against the snapshots and clones now, and deletes the free ones. */
  CompletableFuture<Void> reclaim() {
    List<BlockRef> batch;
    synchronized (this) {
      batch = waiting;
      waiting = new ArrayList<>();
      scheduled = false;
    }
    return checkAndDelete(batch);
  }

  private CompletableFuture<Void> checkAndDelete(List<BlockRef> batch) {
    if (batch.isEmpty()) {
      return Futures.done();
    }
    CompletableFuture<Void> done;
    try { // metadata or a store closed under a closing writer may refuse at once
      done = metadata.list()
          .thenCombine(metadata.listSnapshots(volume.id()),
              (volumes, snapshots) -> deletable(batch, volumes, snapshots))
          .thenCompose(this::delete);
    } catch (RuntimeException e) {
      done = CompletableFuture.failedFuture(e);
    }
    return done.exceptionally(e -> {
      log.debug("volume '{}': of {} replaced blocks, those not deleted are left to garbage"
          + " collection: {}", volume.name(), batch.size(), TorusExceptions.unwrap(e).getMessage());
      return null;
    });
  }

  private List<BlockRef> deletable(List<BlockRef> refs, List<VolumeInfo> volumes,
      List<SnapshotInfo> snapshots) {
    String origin = volume.name() + "@";
    if (volumes.stream().anyMatch(v -> v.origin().startsWith(origin))) {
      return List.of();
    }
    List<BlockRef> free = new ArrayList<>(refs.size());
    for (BlockRef ref : refs) {
      if (snapshots.stream().noneMatch(s -> mayHold(s.root(), ref))) {
        free.add(ref);
      }
    }
    return free;
  }

  /** Whether the tree of {@code root} (of this volume) can contain {@code ref}. */
  static boolean mayHold(VolumeRoot root, BlockRef ref) {
    return root.session() > ref.inode()
        || (root.session() == ref.inode() && root.highWater() >= ref.index());
  }

  private CompletableFuture<Void> delete(List<BlockRef> refs) {
    List<Supplier<CompletableFuture<Void>>> deletes = new ArrayList<>(refs.size());
    for (BlockRef ref : refs) {
      deletes.add(() -> store.deleteBlock(ref)
          .thenRun(counters.reclaimedBlocks::incrementAndGet));
    }
    return Futures.window(deletes, DELETES_IN_FLIGHT);
  }
}
