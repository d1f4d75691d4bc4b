package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Blocks on the heap, for clients, tests and the in-memory quick start.
 *
 * <p>Concurrency: a concurrent map; a put replaces the stored buffer object, never its bytes, so a
 * buffer handed to a reader stays valid and unchanged after a later put or delete. Readers get a
 * retained read-only duplicate: no copy.
 */
final class MemoryBlockStore implements BlockStore {
  private final int blockSize;
  private final long capacityBlocks;
  private final ConcurrentHashMap<BlockRef, ByteBuf> blocks = new ConcurrentHashMap<>();
  private volatile boolean closed;

  MemoryBlockStore(int blockSize, long capacityBlocks) {
    if (blockSize <= 0 || capacityBlocks <= 0) {
      throw new IllegalArgumentException("block size and capacity must be positive");
    }
    this.blockSize = blockSize;
    this.capacityBlocks = capacityBlocks;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory block store"));
    }
    ByteBuf b = blocks.get(ref);
    if (b == null) {
      return CompletableFuture.failedFuture(TorusExceptions.notFound("block " + ref));
    }
    // A concurrent put may release b between get and retain; retry once against the new value.
    try {
      return CompletableFuture.completedFuture(b.retainedDuplicate());
    } catch (io.netty.util.IllegalReferenceCountException e) {
      return getBlock(ref);
    }
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
      if (!blocks.containsKey(ref) && blocks.size() >= capacityBlocks) {
        throw TorusExceptions.outOfSpace(
            "memory block store is full (" + capacityBlocks + " blocks); give it more memory");
      }
      ByteBuf copy = Unpooled.buffer(blockSize, blockSize);
      copy.writeBytes(data, data.readerIndex(), blockSize);
      ByteBuf old = blocks.put(ref, copy.asReadOnly());
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
    ByteBuf old = blocks.remove(ref);
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
    blocks.values().forEach(ByteBuf::release);
    blocks.clear();
  }
}
