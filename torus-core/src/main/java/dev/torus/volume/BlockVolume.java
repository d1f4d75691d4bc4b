package dev.torus.volume;

import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeInfo;
import java.util.concurrent.CompletableFuture;

/**
 * An open block volume: a {@link BlockDevice} plus the volume operations that need it open.
 * Obtained from {@link VolumeService}; thread-safe.
 *
 * <p>A writable volume holds the volume's write lock on a lease for as long as it is open. Writes
 * land in memory and in the block store; {@link #flush()} commits them: it stores the changed
 * blocks and map pages, syncs the store and then moves the volume's root in metadata, fenced by
 * the lock. A background commit bounds what a client that never flushes can lose. If the lease is
 * lost the volume refuses every later write and flush with {@code LOCKED}.
 */
public interface BlockVolume extends BlockDevice {
  /** The volume as it was when opened (name, id, origin); {@link #size()} is current. */
  VolumeInfo info();

  /**
   * Grows the volume to {@code newSize} bytes and commits. Fails with {@code INVALID_ARGUMENT} for
   * a smaller size (shrinking would destroy data) and {@code READ_ONLY} on a read-only volume.
   */
  CompletableFuture<Void> resize(long newSize);

  /**
   * Commits (if writable) and then records the committed state as a snapshot named {@code name}.
   */
  CompletableFuture<SnapshotInfo> snapshot(String name);
}
