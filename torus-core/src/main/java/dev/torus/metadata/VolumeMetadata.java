package dev.torus.metadata;

import dev.torus.VolumeId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Volumes and everything that hangs off them: the committed map root, the write lock and
 * snapshots. Every multi-key change is one atomic transaction.
 */
public interface VolumeMetadata {
  /**
   * Creates a volume with the given empty root. Fails with {@code ALREADY_EXISTS} if the name is
   * taken and {@code INVALID_ARGUMENT} for a bad name.
   */
  CompletableFuture<VolumeInfo> create(String name, VolumeRoot root);

  /** A volume by name; {@code NOT_FOUND} if there is none. */
  CompletableFuture<VolumeInfo> get(String name);

  /** Every volume, sorted by name. */
  CompletableFuture<List<VolumeInfo>> list();

  /**
   * Deletes a volume and its snapshots. Fails with {@code LOCKED} while it is open for writing.
   * Blocks become garbage unless a clone still references them.
   */
  CompletableFuture<Void> delete(String name);

  /** The committed root and its revision. */
  CompletableFuture<Versioned<VolumeRoot>> root(VolumeId id);

  /**
   * Takes the volume's write lock on a lease and allocates a new write session. Fails with {@code
   * LOCKED} (naming the holder) if someone else holds it.
   */
  CompletableFuture<VolumeLock> lock(VolumeId id, long leaseId, String owner);

  /** Releases a lock; releasing a lock that was already lost succeeds. */
  CompletableFuture<Void> unlock(VolumeLock lock);

  /** Who holds the lock, if anyone. */
  CompletableFuture<Optional<LockInfo>> lockStatus(VolumeId id);

  /**
   * Moves the volume's root: succeeds only while {@code lock} is still held and the root is still
   * at {@code expectedRevision}. Fails with {@code LOCKED} once the lock was lost and {@code
   * COMPARE_FAILED} if the root moved.
   */
  CompletableFuture<Versioned<VolumeRoot>> commit(
      VolumeLock lock, long expectedRevision, VolumeRoot next);

  /** Captures the committed root under a name; {@code ALREADY_EXISTS} if the name is taken. */
  CompletableFuture<SnapshotInfo> createSnapshot(VolumeId id, String name);

  /** Snapshots of a volume, oldest first. */
  CompletableFuture<List<SnapshotInfo>> listSnapshots(VolumeId id);

  /** One snapshot; {@code NOT_FOUND} if there is none. */
  CompletableFuture<SnapshotInfo> getSnapshot(VolumeId id, String name);

  /** Deletes a snapshot; {@code NOT_FOUND} if there is none. */
  CompletableFuture<Void> deleteSnapshot(VolumeId id, String name);

  /**
   * Makes a snapshot the volume's committed state again. Fails with {@code LOCKED} while the
   * volume is open for writing.
   */
  CompletableFuture<Versioned<VolumeRoot>> restoreSnapshot(VolumeId id, String name);

  /**
   * Creates a new volume whose committed state is a snapshot; no data is copied. Fails with {@code
   * ALREADY_EXISTS} if the new name is taken.
   */
  CompletableFuture<VolumeInfo> cloneSnapshot(VolumeId id, String snapshot, String newName);
}
