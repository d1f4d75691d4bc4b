package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.BlockBuffers;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * Blocks in memory, for clients, tests and the in-memory quick start.
 *
 * <p>Memory: blocks are kept in direct (off-heap) buffers, so a read can go to a socket without a
 * copy and a store of many gigabytes does not weigh on the Java heap's collector. They come from
 * the store's own {@link BlockBufferPool} ({@link #allocator()}), in which every buffer is one
 * block: long-lived blocks never share pool chunks with short-lived network buffers (which kept up
 * to twice the stored bytes in a shared pool), and the memory of deleted blocks is reused for new
 * ones while free blocks stay within what the stored ones leave of the capacity. The pool maps
 * memory a megabyte at a time and hands out adjacent blocks together ({@link
 * BlockRunAllocator}), for the NBD server to receive large writes into; for those runs it may map
 * spare megabytes while a quarter of its memory or less is free. A put keeps the caller's
 * buffer when it is exactly one block from that pool (a volume's block buffer), since the caller
 * gave it up and must not change it; anything else (a slice of a larger buffer, which would pin
 * all of it, or a heap buffer) is copied.
 *
 * <p>Integrity: the bytes of a stored buffer never change, so a block is checked against the
 * checksum a reader expects once per stored buffer ({@link #getBlock(BlockRef, int)}), not on
 * every read; a put of the same ref stores a new buffer, which is checked again.
 *
 * <p>Concurrency: a concurrent map; a put replaces the stored buffer object, never its bytes, so a
 * buffer handed to a reader stays valid and unchanged after a later put or delete. Readers get a
 * retained read-only duplicate, no copy; each stored block counts its users, so a reader never
 * retains a buffer that a concurrent put or delete has already given back to the pool.
 */
final class MemoryBlockStore implements BlockStore {
  private final int blockSize;
  private final long capacityBlocks;
  /** Blocks kept free of data; see {@link BlockStore}, "Room for the map". */
  private final long mapReserve;
  private final ConcurrentHashMap<BlockRef, Stored> blocks = new ConcurrentHashMap<>();
  private final BlockBufferPool allocator;
  private volatile boolean closed;

  /**
   * Memory the block pool maps at a time, and so the longest run of blocks it hands out: as much
   * as a typical large write, so that one socket read can receive all of it.
   */
  private static final int CHUNK_BYTES = 1 << 20;

  /** No checksum checked yet; real ones are unsigned 32-bit values. */
  private static final long NOT_VERIFIED = -1;

  MemoryBlockStore(int blockSize, long capacityBlocks) {
    if (blockSize <= 0 || capacityBlocks <= 0) {
      throw new IllegalArgumentException("block size and capacity must be positive");
    }
    this.blockSize = blockSize;
    this.capacityBlocks = capacityBlocks;
    this.mapReserve = BlockStores.mapReserve(capacityBlocks);
    int chunkBlocks = (int) Math.min(capacityBlocks, Math.max(1, CHUNK_BYTES / blockSize));
    this.allocator =
        new BlockBufferPool(blockSize, chunkBlocks, () -> capacityBlocks - blocks.size());
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public ByteBufAllocator allocator() {
    return allocator;
  }

  /** A put keeps a whole block from its pool; see {@link #keep}. */
  @Override
  public boolean keepsBlockBuffers() {
    return true;
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return get(ref, NOT_VERIFIED);
  }

  /**
   * Checks the block against {@code expectedCrc} the first time it is asked for with it, and not
   * again while the same buffer is stored: the bytes of a stored buffer never change.
   */
  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    return get(ref, Integer.toUnsignedLong(expectedCrc));
  }

  private CompletableFuture<ByteBuf> get(BlockRef ref, long expectedCrc) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    Stored stored;
    ByteBuf view;
    do { // null view: replaced or deleted since the lookup; the map has what is current now
      stored = blocks.get(ref);
      if (stored == null) {
        return CompletableFuture.failedFuture(TorusExceptions.notFound("block " + ref));
      }
      view = stored.view();
    } while (view == null);
    if (expectedCrc != NOT_VERIFIED && stored.verifiedCrc != expectedCrc) {
      if (Integer.toUnsignedLong(Crc32c.of(view)) != expectedCrc) {
        view.release();
        return CompletableFuture.failedFuture(TorusExceptions.corrupted("block " + ref
            + " does not match the checksum it was written with"));
      }
      stored.verifiedCrc = expectedCrc;
    }
    return CompletableFuture.completedFuture(view);
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    try {
      if (closed) {
        throw TorusExceptions.closed("memory block store");
      }
      if (data.readableBytes() != blockSize) {
        throw TorusExceptions.invalid(
            "block " + ref + " has " + data.readableBytes() + " bytes, expected " + blockSize);
      }
      long room = ref.type() == BlockType.DATA ? capacityBlocks - mapReserve : capacityBlocks;
      if (!blocks.containsKey(ref) && blocks.size() >= room) {
        throw TorusExceptions.outOfSpace("memory block store is full (" + blocks.size() + " of "
            + capacityBlocks + " blocks" + (room < capacityBlocks
                ? ", the last " + mapReserve + " kept for map pages" : "")
            + "); garbage collection frees overwritten and deleted blocks, or give it more memory");
      }
      Stored old = blocks.put(ref, new Stored(keep(data).asReadOnly()));
      if (old != null) {
        old.release();
      }
      return Futures.done();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      data.release();
    }
  }

  /** The buffer to store for {@code data}, which the caller releases afterwards. */
  private ByteBuf keep(ByteBuf data) {
    if (BlockBuffers.isWholeBlockOf(data, allocator, blockSize)) {
      return data.retainedDuplicate();
    }
    ByteBuf copy = allocator.directBuffer(blockSize, blockSize);
    return copy.writeBytes(data, data.readerIndex(), blockSize);
  }

  @Override
  public CompletableFuture<Boolean> hasBlock(BlockRef ref) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    return CompletableFuture.completedFuture(blocks.containsKey(ref));
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    Stored old = blocks.remove(ref);
    if (old != null) {
      old.release();
    }
    return Futures.done();
  }

  @Override
  public CompletableFuture<Void> flush() {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    return Futures.done();
  }

  @Override
  public CompletableFuture<List<BlockRef>> listBlocks() {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    return CompletableFuture.completedFuture(new ArrayList<>(blocks.keySet()));
  }

  @Override
  public StoreStats stats() {
    return new StoreStats(blockSize, capacityBlocks, blocks.size());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (BlockRef ref : blocks.keySet()) {
      Stored b = blocks.remove(ref);
      if (b != null) {
        b.release();
      }
    }
    allocator.close();
  }

  /**
   * A stored block, and the checksum it was last found to have (or {@link #NOT_VERIFIED}). It
   * counts its own users (the map, and readers taking a view), because a pooled buffer cannot be
   * retained safely once released: the pool may already have handed it out again.
   */
  private static final class Stored {
    private static final AtomicIntegerFieldUpdater<Stored> USERS =
        AtomicIntegerFieldUpdater.newUpdater(Stored.class, "users");

    final ByteBuf buf;
    volatile long verifiedCrc = NOT_VERIFIED;
    private volatile int users = 1; // the map's

    Stored(ByteBuf buf) {
      this.buf = buf;
    }

    /** A retained view of the block, or null if it has left the store and been released. */
    @Nullable ByteBuf view() {
      int n;
      do {
        n = users;
        if (n == 0) {
          return null;
        }
      } while (!USERS.compareAndSet(this, n, n + 1));
      try {
        return buf.retainedDuplicate();
      } finally {
        release();
      }
    }

    /** Drops one user; the last one releases the buffer. */
    void release() {
      if (USERS.decrementAndGet(this) == 0) {
        buf.release();
      }
    }
  }
}
