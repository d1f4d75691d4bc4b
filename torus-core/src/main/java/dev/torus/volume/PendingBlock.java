package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One data block changed since the last commit. Mutable; every field is guarded by the owning
 * {@link VolumeHandle}'s monitor.
 *
 * <p>States: {@link #loading} set while its old content is being read for a partial write; writes
 * meanwhile go into {@link #data} and {@link #written} records where, and every other operation on
 * the block waits for the read. {@link #hole} when it reads as zero; otherwise its content is in
 * {@link #data}, or, once written back, in the store under {@link #ref} with {@link #crc}, after
 * {@link #stored} completes.
 *
 * <p>Sharing: a put is handed a retained view of {@link #data}, not a copy ({@link #shared}); the
 * next change to the block copies the buffer first, so a put never sees bytes change under it.
 *
 * <p>Kept content: when the store keeps the buffers it is given ({@link
 * dev.torus.storage.BlockStore#keepsBlockBuffers()}), a written-back block keeps its buffer as
 * {@link #keptContent()}, which costs no memory the store does not hold anyway. A partial write or
 * a read then takes the old content from it instead of reading the block back from the store and
 * checking it: the volume's own bytes, which it checksummed itself, as while the block was dirty.
 */
final class PendingBlock {
  final long index;
  @Nullable BlockRef ref;
  int crc;
  boolean hole;
  @Nullable ByteBuf data;
  /** Bumped by every change to {@link #data}, so a write-back can tell if it is still current. */
  long version;
  /** The checksum of {@link #data} at {@link #checksummedVersion} (-1: none taken yet). */
  private int dataCrc;
  private long checksummedVersion = -1;
  /** {@link #data} is also held by a put: copy it before changing it. */
  boolean shared;
  /** The {@link #version} a running write-back is storing, or -1: no second write-back of it. */
  long writeBackVersion = -1;
  /** In the volume's write-back queue. */
  boolean queued;
  /** Completes when the latest put of {@link #ref} finished; puts of one ref are chained on it. */
  CompletableFuture<Void> stored = Futures.done();
  @Nullable CompletableFuture<Void> loading;
  /**
   * While {@link #loading}, once a write came: the ranges of {@link #data} it holds; the old
   * content fills the rest when it arrives. Null otherwise.
   */
  @Nullable WrittenRanges written;
  /** The buffer a write-back stored under {@link #ref}, as of {@link #keptVersion}. */
  private @Nullable ByteBuf kept;
  private long keptVersion;

  PendingBlock(long index) {
    this.index = index;
  }

  /**
   * Nothing changed the block: the read of its old content for a partial write failed, so it has
   * neither content nor a stored ref, yet is no hole. It stands for the block as it was.
   */
  boolean unchanged() {
    return !hole && data == null && ref == null && loading == null;
  }

  /**
   * The checksum of {@link #data} as it is now. A write that replaces the whole block asks for it
   * at once, while the bytes are still in the CPU's caches: a write-back or commit comes only after
   * up to the dirty limit of other writes, when checksumming means reading them from memory again.
   */
  int dataCrc() {
    if (checksummedVersion != version) {
      dataCrc = Crc32c.of(data);
      checksummedVersion = version;
    }
    return dataCrc;
  }

  /**
   * Records the checksum of {@link #data} as it is now, taken by whoever wrote the bytes.
   * Checked when assertions are on (in the tests), since a wrong one is found only on a read.
   */
  void dataCrc(int crc) {
    assert data != null && crc == Crc32c.of(data)
        : "block " + index + ": checksum " + Integer.toHexString(crc) + " does not match its data";
    derivedDataCrc(crc);
  }

  /**
   * Records the checksum of {@link #data} as it is now, computed from other checksums instead of
   * its bytes ({@link Crc32c#afterReplacing}). Not checked here: tests check it where the store
   * receives it, against the bytes it receives.
   */
  void derivedDataCrc(int crc) {
    dataCrc = crc;
    checksummedVersion = version;
  }

  /** Drops the in-memory content, if any, kept content included. */
  void releaseData() {
    checksummedVersion = -1;
    if (data != null) {
      data.release();
      data = null;
      shared = false;
    }
    releaseKept();
  }

  /**
   * The write-back of {@link #data} as {@link #ref} with {@link #crc} completed, and the store
   * holds the same memory: {@link #data} becomes the kept content.
   */
  void keepStored() {
    releaseKept();
    kept = data.asReadOnly(); // shares data's reference
    keptVersion = version;
    data = null;
    shared = false;
    checksummedVersion = -1;
  }

  /**
   * A retained view of what is stored under {@link #ref}, if the block still holds it and has not
   * changed since; null otherwise (and a stale one is let go).
   */
  @Nullable ByteBuf keptContent() {
    if (kept == null) {
      return null;
    }
    // A block's ref is set once; every change to its content bumps the version.
    if (keptVersion != version || data != null || hole || loading != null) {
      releaseKept();
      return null;
    }
    return kept.retainedDuplicate();
  }

  /** Lets go of the kept content, if any: the block changed, or leaves the volume's memory. */
  void releaseKept() {
    if (kept != null) {
      kept.release();
      kept = null;
    }
  }

  /** The content to change in place: {@link #data}, first replaced by a copy if a put holds it. */
  ByteBuf writableData() {
    if (shared) {
      ByteBuf copy = data.copy();
      data.release();
      data = copy;
      shared = false;
    }
    return data;
  }

  /** A view of {@link #data} for a put to own; later changes copy first. */
  ByteBuf shareData() {
    shared = true;
    return data.retainedDuplicate();
  }
}
