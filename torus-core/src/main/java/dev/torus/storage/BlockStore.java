package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Stores fixed-size blocks by {@link BlockRef}. Implementations: in memory, file-backed (durable),
 * and the distributor (the cluster). Thread-safe.
 *
 * <p>Buffer ownership: a returned {@link ByteBuf} belongs to the caller, who must release it. A
 * {@code ByteBuf} passed in is owned by the callee from the call on, and the callee releases it
 * exactly once on every path, failure included (Netty's {@code write()} rule). The callee may keep
 * its memory instead of copying it, so the caller must not change those bytes afterwards, through
 * this buffer or any other view of the same memory.
 *
 * <p>Integrity: a store never returns bytes that fail its own checksum; it fails with {@code
 * CORRUPTED} instead. Durability: a block is durable only once a {@link #flush()} that started
 * after its {@link #putBlock} completed has completed.
 *
 * <p>Room for the map: a store keeps 1/64 of its capacity for blocks that are not {@link
 * dev.torus.BlockType#DATA} and fails a data put with {@code OUT_OF_SPACE} when only that much is
 * free. A volume whose overwrites filled the store can then still store the map pages of a commit
 * of the data it did store, and that commit is what lets garbage collection free the blocks it
 * superseded.
 *
 * <p>Failures complete the returned future exceptionally with a {@link dev.torus.TorusException}:
 * {@code NOT_FOUND} for a missing block, {@code OUT_OF_SPACE} when full, {@code CLOSED} after
 * {@link #close()}.
 */
public interface BlockStore extends AutoCloseable {
  /** The size of every block in bytes. */
  int blockSize();

  /**
   * Where to allocate a block's buffer that will be passed to {@link #putBlock}: a store may keep
   * such a buffer instead of copying it. Any buffer is accepted; this one can save a copy. The
   * default is Netty's default allocator.
   */
  default ByteBufAllocator allocator() {
    return ByteBufAllocator.DEFAULT;
  }

  /**
   * Whether a put keeps a buffer of exactly one block from {@link #allocator()} as the stored
   * block, rather than copying it: its caller may then hold on to that buffer as a copy of the
   * stored block at no cost in memory. The default is false.
   */
  default boolean keepsBlockBuffers() {
    return false;
  }

  /** Reads a block; the result has exactly {@link #blockSize()} readable bytes. */
  CompletableFuture<ByteBuf> getBlock(BlockRef ref);

  /**
   * Reads a block whose CRC-32C the caller knows (from the map entry that points at it) and
   * fails with {@code CORRUPTED} rather than return other bytes. A replicated store checks every
   * copy it reads this way and moves on to the next replica when one is damaged or stale.
   */
  default CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    return getBlock(ref).thenApply(buf -> {
      if (Crc32c.of(buf) != expectedCrc) {
        buf.release();
        throw TorusExceptions.corrupted("block " + ref + " does not match the checksum it was"
            + " written with");
      }
      return buf;
    });
  }

  /**
   * As {@link #getBlock(BlockRef, int)}, for one of several blocks the caller reads at once: a
   * store that reads on the caller's thread when it can answer at once (the file store, from the
   * page cache) reads on its own threads instead, so that the blocks are read in parallel. The
   * default is {@link #getBlock(BlockRef, int)}.
   */
  default CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
    return getBlock(ref, expectedCrc);
  }

  /**
   * Stores a block, replacing any block with the same ref. {@code data} must have exactly {@link
   * #blockSize()} readable bytes, else the call fails with {@code INVALID_ARGUMENT}.
   */
  CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data);

  /**
   * Stores a block whose CRC-32C the caller has computed ({@code crc}, over exactly the readable
   * bytes of {@code data}), as a volume does for its map: the checksum travels with the block, and
   * a store that records checksums may take it instead of computing it again. A store never
   * trusts it for a read: a wrong {@code crc} makes later reads fail {@code CORRUPTED}, as damage
   * would. Otherwise as {@link #putBlock(BlockRef, ByteBuf)}, which the default calls.
   */
  default CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
    return putBlock(ref, data);
  }

  /** Whether a block is stored. */
  CompletableFuture<Boolean> hasBlock(BlockRef ref);

  /** Removes a block; removing a missing block succeeds. */
  CompletableFuture<Void> deleteBlock(BlockRef ref);

  /** Completes when every put and delete that completed before this call is on stable storage. */
  CompletableFuture<Void> flush();

  /** A point-in-time list of the stored refs, for garbage collection and rebalancing. */
  CompletableFuture<List<BlockRef>> listBlocks();

  /** Capacity and usage. */
  StoreStats stats();

  /** Flushes and releases resources; idempotent. Later calls fail with {@code CLOSED}. */
  @Override
  void close();
}
