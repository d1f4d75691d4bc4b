package dev.torus.storage;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Allocates block-sized direct buffers from chunks of memory that it maps once and reuses: a
 * released block's memory goes back to the pool for the next block rather than back to the
 * operating system.
 *
 * <p>Why reuse: a volume that rewrites blocks allocates a new block per rewrite, and the garbage
 * collector frees the superseded ones in batches. A general-purpose pool gives chunks that empty
 * out back to the system and maps fresh ones moments later; the kernel's page faults and page
 * zeroing for that fresh memory took a quarter of the NBD server's CPU on 4 KiB random writes to
 * an in-memory volume.
 *
 * <p>Why chunks: blocks next to each other in a chunk can be handed out together ({@link
 * #allocateRun}), and the NBD server then reads a large write's bytes from the socket straight
 * into them. Through a read buffer, copying those bytes into the blocks was the largest single
 * cost of in-memory 1 MiB writes. Free blocks are found next fit: each search starts after the
 * block handed out last, so consecutive allocations take consecutive free blocks, and runs stay
 * long while blocks are freed in the order they were written.
 *
 * <p>Why spare chunks: a pool that maps memory only when no block is free at all has almost none
 * free, and what it has is scattered where random writes freed single blocks. Runs cut short there
 * are freed as short runs again, and blocks a commit keeps pin their chunks for seconds, so a
 * volume that had taken random writes went on receiving 1 MiB writes in runs of five 32 KiB blocks
 * on average: a socket read per few blocks, or a copy from the read buffer. So a run that next fit
 * cannot give whole comes from a wholly free chunk, or else from a newly mapped one while at most
 * a quarter of the mapped blocks are free; only beyond that does it take the short run. The
 * scattered free blocks are left to single blocks meanwhile, and their chunks come back whole as
 * their other blocks are rewritten. A sixteenth or an eighth spare did not give the runs back
 * within the ten seconds of a benchmark job (docs/benchmarks.md, run BA).
 *
 * <p>Memory is bounded by the owner: spare chunks are mapped only while the owner allows that
 * many more free blocks, and when a release leaves more than {@code maxFree} blocks free
 * (asked at each release) and its chunk wholly free, the chunk is unmapped. After {@link #close()}
 * every chunk is unmapped as soon as it is wholly free. Other sizes are served by Netty's default
 * allocator.
 */
final class BlockBufferPool extends AbstractByteBufAllocator
    implements BlockRunAllocator, AutoCloseable {
  /** A chunk is mapped for a run while at most one in this many mapped blocks is free. */
  private static final int SPARE_SHARE = 4;

  private final int blockSize;
  private final int chunkBlocks;
  private final LongSupplier maxFree;
  /** Mapped chunks by index, null where one was unmapped; block {@code b} is in chunk {@code b / chunkBlocks}. */
  private final List<@Nullable CleanableDirectBuffer> chunks = new ArrayList<>(); // guarded by free
  private final BitSet free = new BitSet(); // guarded by itself
  private int freeCount; // guarded by free
  /** Free blocks per chunk, by chunk index. */
  private int[] chunkFree = new int[0]; // guarded by free
  /** The chunks whose every block is free. */
  private final BitSet whollyFree = new BitSet(); // guarded by free
  private int mappedChunks; // guarded by free
  /** Where the next search for a free block starts. */
  private int cursor; // guarded by free
  private boolean closed; // guarded by free

  /**
   * @param chunkBlocks blocks per chunk of memory, the longest run
   * @param maxFree how many free blocks may stay mapped
   */
  BlockBufferPool(int blockSize, int chunkBlocks, LongSupplier maxFree) {
    super(true);
    if (blockSize <= 0 || chunkBlocks <= 0 || (long) blockSize * chunkBlocks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "a chunk of " + chunkBlocks + " blocks of " + blockSize + " bytes");
    }
    this.blockSize = blockSize;
    this.chunkBlocks = chunkBlocks;
    this.maxFree = maxFree;
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    if (initialCapacity != blockSize || maxCapacity != blockSize) {
      return ByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }
    Taken taken = take(1);
    return toLeakAwareBuffer(new Block(this, taken.first, memory(taken, 0, 1)));
  }

  @Override
  public BlockRun allocateRun(int maxBlocks) {
    if (maxBlocks < 1) {
      throw new IllegalArgumentException("a run of at least one block, not " + maxBlocks);
    }
    Taken taken = take(maxBlocks);
    List<ByteBuf> blocks = new ArrayList<>(taken.count);
    for (int i = 0; i < taken.count; i++) {
      blocks.add(toLeakAwareBuffer(new Block(this, taken.first + i, memory(taken, i, 1))));
    }
    return new BlockRun(blocks, view(memory(taken, 0, taken.count)));
  }

  /** A buffer over {@code memory} that never frees it. */
  private static ByteBuf view(ByteBuffer memory) {
    return Unpooled.wrappedBuffer(memory).clear();
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return ByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return true;
  }

  /** How many blocks of the mapped chunks are free now. */
  int freeBuffers() {
    synchronized (free) {
      return freeCount;
    }
  }

  /** How many chunks are mapped now. */
  int mappedChunks() {
    synchronized (free) {
      return mappedChunks;
    }
  }

  /** Unmaps the wholly free chunks; the others are unmapped when their last block is released. */
  @Override
  public void close() {
    List<CleanableDirectBuffer> unmapped = new ArrayList<>();
    synchronized (free) {
      closed = true;
      for (int c = 0; c < chunks.size(); c++) {
        CleanableDirectBuffer chunk = unmapIfFree(c);
        if (chunk != null) {
          unmapped.add(chunk);
        }
      }
    }
    unmapped.forEach(CleanableDirectBuffer::clean);
  }

  /**
   * Up to {@code maxBlocks} free blocks in a row of one chunk, at least one: found next fit, or
   * where a run that long fits when next fit finds a shorter one (see the class comment).
   */
  private Taken take(int maxBlocks) {
    synchronized (free) {
      int first = free.nextSetBit(cursor);
      if (first < 0) {
        first = free.nextSetBit(0);
      }
      if (first < 0) {
        first = map();
      } else if (runEnd(first, maxBlocks) - first < Math.min(maxBlocks, chunkBlocks)) {
        first = longRunStart(first);
      }
      int end = runEnd(first, maxBlocks);
      free.clear(first, end);
      freeCount -= end - first;
      int c = first / chunkBlocks;
      countFree(c, chunkFree[c] - (end - first));
      cursor = end;
      return new Taken(chunks.get(c).buffer(), first, end - first);
    }
  }

  /** Where the free run at {@code first} ends, at most {@code maxBlocks} long. */
  private int runEnd(int first, int maxBlocks) {
    int chunkEnd = (first / chunkBlocks + 1) * chunkBlocks;
    return Math.min(Math.min(chunkEnd, first + maxBlocks), free.nextClearBit(first));
  }

  /**
   * The first block of a wholly free chunk, after the cursor if there is one there; else of a
   * newly mapped chunk if few blocks are free and the owner allows more; else {@code shortRun}.
   */
  private int longRunStart(int shortRun) {
    int c = whollyFree.nextSetBit(cursor / chunkBlocks);
    if (c < 0) {
      c = whollyFree.nextSetBit(0);
    }
    if (c >= 0) {
      return c * chunkBlocks;
    }
    if (freeCount <= (long) mappedChunks * chunkBlocks / SPARE_SHARE
        && freeCount + chunkBlocks <= maxFree.getAsLong()) {
      return map();
    }
    return shortRun;
  }

  /** Records that chunk {@code c} has {@code n} free blocks now. */
  private void countFree(int c, int n) {
    chunkFree[c] = n;
    whollyFree.set(c, n == chunkBlocks);
  }

  /** Maps a chunk, where one was unmapped if there is such a place; returns its first block. */
  private int map() {
    int c = chunks.indexOf(null);
    if (c < 0) {
      c = chunks.size();
      chunks.add(null);
      chunkFree = Arrays.copyOf(chunkFree, chunks.size());
    }
    chunks.set(c, PlatformDependent.allocateDirect(chunkBlocks * blockSize));
    free.set(c * chunkBlocks, (c + 1) * chunkBlocks);
    freeCount += chunkBlocks;
    countFree(c, chunkBlocks);
    mappedChunks++;
    return c * chunkBlocks;
  }

  private void release(int block) {
    CleanableDirectBuffer unmapped = null;
    synchronized (free) {
      free.set(block);
      freeCount++;
      int c = block / chunkBlocks;
      countFree(c, chunkFree[c] + 1);
      if (closed || freeCount > maxFree.getAsLong()) {
        unmapped = unmapIfFree(c);
      }
    }
    if (unmapped != null) {
      unmapped.clean();
    }
  }

  /** Takes chunk {@code c} out of the pool if all its blocks are free; the caller frees it. */
  private @Nullable CleanableDirectBuffer unmapIfFree(int c) {
    if (!whollyFree.get(c)) {
      return null;
    }
    free.clear(c * chunkBlocks, (c + 1) * chunkBlocks);
    freeCount -= chunkBlocks;
    countFree(c, 0);
    mappedChunks--;
    return chunks.set(c, null);
  }

  /** Blocks {@code first} to {@code first + count - 1}, taken from the pool, in {@code chunk}. */
  private record Taken(ByteBuffer chunk, int first, int count) {}

  /** The memory of {@code blocks} blocks from the {@code index}-th of {@code taken}. */
  private ByteBuffer memory(Taken taken, int index, int blocks) {
    return taken.chunk.slice((taken.first % chunkBlocks + index) * blockSize, blocks * blockSize);
  }

  /**
   * One block's buffer over pooled memory; releasing it returns the memory to the pool.
   *
   * <p>A plain direct buffer, not Netty's {@code sun.misc.Unsafe} one: Netty does not use Unsafe
   * on Java 25 unless told to, and the pool must work there too. Block-sized buffers from Netty's
   * default allocator instead made 1 MiB writes to an in-memory volume fourteen times slower on
   * Java 25; on Java 17 the plain buffer costs nothing measurable (docs/benchmarks.md).
   */
  private static final class Block extends UnpooledDirectByteBuf {
    private final BlockBufferPool pool;
    private final int block;

    Block(BlockBufferPool pool, int block, ByteBuffer memory) {
      // This constructor never frees the buffer itself: deallocate() hands it back instead.
      super(pool, memory, pool.blockSize);
      setIndex(0, 0); // the constructor counts the given memory as written
      this.pool = pool;
      this.block = block;
    }

    @Override
    protected void deallocate() {
      super.deallocate();
      pool.release(block);
    }
  }
}
