package dev.torus.storage;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Allocates block-sized direct buffers whose memory goes back to a free list for the next block
 * when they are released, rather than back to the operating system.
 *
 * <p>Why: a volume that rewrites blocks allocates a new block per rewrite, and the garbage
 * collector frees the superseded ones in batches. A general-purpose pool gives chunks that empty
 * out back to the system and maps fresh ones moments later; the kernel's page faults and page
 * zeroing for that fresh memory took a quarter of the NBD server's CPU on 4 KiB random writes to
 * an in-memory volume. Here memory is mapped once and reused.
 *
 * <p>Memory is bounded by the owner: a released buffer is kept only while fewer than {@code
 * maxFree} buffers are free (asked at each release), and freed at once otherwise. Other sizes are
 * served by Netty's default allocator.
 */
final class BlockBufferPool extends AbstractByteBufAllocator implements AutoCloseable {
  private final int blockSize;
  private final LongSupplier maxFree;
  private final ArrayDeque<CleanableDirectBuffer> free = new ArrayDeque<>(); // guarded by itself
  private boolean closed; // guarded by free

  BlockBufferPool(int blockSize, LongSupplier maxFree) {
    super(true);
    this.blockSize = blockSize;
    this.maxFree = maxFree;
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    if (initialCapacity != blockSize || maxCapacity != blockSize || !PlatformDependent.hasUnsafe()) {
      return ByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }
    CleanableDirectBuffer memory;
    synchronized (free) {
      memory = free.pollLast(); // the most recently used is the likeliest to be in a CPU cache
    }
    if (memory == null) {
      memory = PlatformDependent.allocateDirect(blockSize);
    }
    return toLeakAwareBuffer(new Block(this, memory));
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return ByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return true;
  }

  /** How many released buffers are kept for reuse now. */
  int freeBuffers() {
    synchronized (free) {
      return free.size();
    }
  }

  /** Frees the kept buffers; buffers still in use are freed when released. */
  @Override
  public void close() {
    synchronized (free) {
      closed = true;
      free.forEach(CleanableDirectBuffer::clean);
      free.clear();
    }
  }

  private void recycle(CleanableDirectBuffer memory) {
    synchronized (free) {
      if (!closed && free.size() < maxFree.getAsLong()) {
        free.addLast(memory);
        return;
      }
    }
    memory.clean();
  }

  /** One block's buffer over pooled memory; releasing it returns the memory to the pool. */
  private static final class Block extends UnpooledUnsafeDirectByteBuf {
    private final BlockBufferPool pool;
    private final CleanableDirectBuffer memory;

    Block(BlockBufferPool pool, CleanableDirectBuffer memory) {
      // This constructor never frees the buffer itself: deallocate() hands it back instead.
      super(pool, memory.buffer().clear(), pool.blockSize);
      setIndex(0, 0); // the constructor counts the given memory as written
      this.pool = pool;
      this.memory = memory;
    }

    @Override
    protected void deallocate() {
      super.deallocate();
      pool.recycle(memory);
    }
  }
}
