package dev.torus.volume;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A byte-addressed device, as the NBD and AoE frontends see it. Thread-safe: many requests may be
 * in flight at once.
 *
 * <p>Ownership: a buffer returned by {@link #read} belongs to the caller, who releases it; a buffer
 * passed to {@link #write} belongs to the device from the call on, on every path.
 *
 * <p>Durability: a completed {@link #write} is visible to later reads but may be lost in a crash
 * until a {@link #flush()} that started after it completes. A failed flush leaves the device's
 * durable state unknown beyond the last successful flush, and is never reported as success.
 *
 * <p>Errors complete futures with a {@link dev.torus.TorusException}: {@code INVALID_ARGUMENT} for
 * a range outside the device, {@code READ_ONLY} for writes to a read-only device, {@code LOCKED}
 * once a writer lost its lock, {@code OUT_OF_SPACE} when storage is full, {@code CLOSED} after
 * {@link #close()}.
 */
public interface BlockDevice extends AutoCloseable {
  /** Size in bytes. */
  long size();

  /** The preferred I/O granularity: writes of whole aligned blocks avoid read-modify-write. */
  int blockSize();

  /**
   * Where to allocate buffers for data about to be written. A {@link #write} whose data holds a
   * whole aligned block as one buffer of exactly {@link #blockSize()} bytes from this allocator may
   * keep that buffer instead of copying it, so a frontend that receives writes off the network
   * saves a copy by receiving them into such buffers.
   */
  default ByteBufAllocator bufferAllocator() {
    return ByteBufAllocator.DEFAULT;
  }

  /** Whether writes are refused. */
  boolean readOnly();

  /** Reads {@code length} bytes at {@code offset}; the range must lie inside the device. */
  CompletableFuture<ByteBuf> read(long offset, int length);

  /**
   * Writes the readable bytes of {@code data} at {@code offset}. Completion means that later reads
   * return the bytes (or fail), not that they are durable; a failure to store them that shows only
   * afterwards is reported by the next {@link #flush()}.
   */
  CompletableFuture<Void> write(long offset, ByteBuf data);

  /**
   * {@link #write(long, ByteBuf)} for a caller that took each whole block's CRC-32C as the bytes
   * arrived, while the CPU's caches held them: {@code blockCrcs[i]} is the checksum of the i-th
   * whole aligned block inside the range, and a device that checksums its blocks keeps these
   * instead of reading every byte again. They must be right: a block stored with a wrong checksum
   * fails its reads later, as corrupt. A count that does not match the range fails the write. The
   * default ignores them.
   */
  default CompletableFuture<Void> write(long offset, ByteBuf data, int[] blockCrcs) {
    return write(offset, data);
  }

  /**
   * Makes every write that completed before this call durable, or fails if any of them could not
   * be stored.
   */
  CompletableFuture<Void> flush();

  /**
   * Discards a range: it reads as zeroes afterwards and whole blocks inside it stop using space.
   */
  CompletableFuture<Void> trim(long offset, long length);

  /**
   * Zeroes a range. Whole blocks become holes, which read as zero and use no space; partial blocks
   * at the edges are written with zeroes.
   */
  CompletableFuture<Void> writeZeroes(long offset, long length);

  /**
   * Which parts of a range hold data and which are holes, in order, covering the range exactly.
   * Holes read as zero; a data extent may also happen to read as zero.
   */
  CompletableFuture<List<Extent>> allocation(long offset, long length);

  /** Commits (for a writable device) and releases the device; idempotent. */
  @Override
  void close();
}
