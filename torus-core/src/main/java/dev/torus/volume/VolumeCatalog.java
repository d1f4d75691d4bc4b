package dev.torus.volume;

import dev.torus.Names;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeRoot;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * Volume administration that needs only metadata: create, list, delete, grow, snapshot, restore
 * and clone. Nothing here reads or writes blocks, so {@code torusctl} can run it without reaching
 * any storage node. Thread-safe; every method fails with a {@link TorusException} whose message
 * says what to do.
 *
 * <p>Volumes are thin: creating one writes no blocks, and a never-written block is a hole that
 * reads as zero. Snapshots and clones copy nothing: they name an existing committed map.
 */
public final class VolumeCatalog {
  private final MetadataService metadata;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanoClock;
  private final Duration leaseTtl;
  private final String owner;

  /**
   * A catalog over {@code metadata}; {@code scheduler} keeps the short lease that {@link #resize}
   * holds; {@code owner} names this process in locks.
   */
  public VolumeCatalog(MetadataService metadata, ScheduledExecutorService scheduler,
      LongSupplier nanoClock, Duration leaseTtl, String owner) {
    this.metadata = Objects.requireNonNull(metadata, "metadata");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.leaseTtl = Objects.requireNonNull(leaseTtl, "leaseTtl");
    this.owner = Objects.requireNonNull(owner, "owner");
  }

  /** The metadata service volumes are recorded in. */
  public MetadataService metadata() {
    return metadata;
  }

  /**
   * Creates a thin volume of {@code size} bytes (1 byte to 1 EiB). Fails with {@code
   * ALREADY_EXISTS} if the name is taken, {@code INVALID_ARGUMENT} for a bad name or size and
   * {@code NOT_INITIALIZED} before {@code torusctl init}.
   */
  public CompletableFuture<VolumeInfo> create(String name, long size) {
    try {
      Names.checkVolumeName(name);
      MapGeometry.checkSize(size);
      return metadata.global().thenCompose(g -> metadata.volumes().create(name, VolumeRoot.empty(size, 1)));
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** A volume by name; {@code NOT_FOUND} if there is none. */
  public CompletableFuture<VolumeInfo> get(String name) {
    return metadata.volumes().get(name);
  }

  /**
   * Every volume, sorted by name. Fails with {@code NOT_INITIALIZED} before {@code torusctl init},
   * so that a wrong address or an empty store does not pass for a cluster without volumes.
   */
  public CompletableFuture<List<VolumeInfo>> list() {
    return metadata.global().thenCompose(g -> metadata.volumes().list());
  }

  /**
   * Deletes a volume and its snapshots; fails with {@code LOCKED} while it is open for writing.
   * Its blocks are reclaimed by garbage collection unless a clone still uses them.
   */
  public CompletableFuture<Void> delete(String name) {
    return metadata.volumes().delete(name);
  }

  /**
   * Grows a volume that is not open for writing ({@code LOCKED} otherwise; an open volume grows
   * through {@link BlockVolume#resize}). Shrinking fails with {@code INVALID_ARGUMENT}. Only the
   * size changes: the map grows when blocks beyond its reach are first written.
   */
  public CompletableFuture<VolumeInfo> resize(String name, long newSize) {
    try {
      MapGeometry.checkSize(newSize);
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
    return get(name).thenCompose(info -> {
      if (newSize < info.size()) {
        throw TorusExceptions.invalid("volume '" + name + "' is " + info.size()
            + " bytes; shrinking to " + newSize + " would destroy data and is not supported");
      }
      return LeaseKeeper.start(metadata.leases(), leaseTtl, scheduler, nanoClock).thenCompose(keeper ->
          metadata.volumes().lock(info.id(), keeper.leaseId(), owner)
              .thenCompose(lock -> metadata.volumes().root(info.id()).thenCompose(root -> {
                VolumeRoot r = root.value();
                VolumeRoot grown = new VolumeRoot(newSize, r.levels(), r.page(), r.pageCrc(),
                    r.session(), r.highWater());
                return metadata.volumes().commit(lock, root.revision(), grown);
              }).whenComplete((x, e) -> metadata.volumes().unlock(lock)))
              .whenComplete((x, e) -> keeper.close()))
          .thenCompose(x -> get(name));
    });
  }

  /**
   * Snapshots a volume's last committed state. Writes a writer elsewhere has not flushed are not
   * included; {@link BlockVolume#snapshot} commits first.
   */
  public CompletableFuture<SnapshotInfo> createSnapshot(String volume, String snapshot) {
    return get(volume).thenCompose(info -> metadata.volumes().createSnapshot(info.id(), snapshot));
  }

  /** A volume's snapshots, oldest first. */
  public CompletableFuture<List<SnapshotInfo>> listSnapshots(String volume) {
    return get(volume).thenCompose(info -> metadata.volumes().listSnapshots(info.id()));
  }

  /** Deletes a snapshot; its blocks are reclaimed unless still in use. */
  public CompletableFuture<Void> deleteSnapshot(String volume, String snapshot) {
    return get(volume).thenCompose(info -> metadata.volumes().deleteSnapshot(info.id(), snapshot));
  }

  /**
   * Rolls a volume back to a snapshot; fails with {@code LOCKED} while the volume is open for
   * writing. Data written after the snapshot becomes garbage.
   */
  public CompletableFuture<Void> restoreSnapshot(String volume, String snapshot) {
    return get(volume).thenCompose(info -> metadata.volumes().restoreSnapshot(info.id(), snapshot))
        .thenCompose(root -> Futures.done());
  }

  /** Creates a new volume from a snapshot without copying data. */
  public CompletableFuture<VolumeInfo> cloneSnapshot(String volume, String snapshot, String newVolume) {
    return get(volume).thenCompose(info -> metadata.volumes().cloneSnapshot(info.id(), snapshot, newVolume));
  }
}
