package dev.torus.volume;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory {@link BlockDevice} for tests: the reference model that frontends (NBD, AoE) are
 * checked against until, and alongside, the real volume.
 *
 * <p>Data lives in one array per block; a block without an array is a hole, which reads as zero
 * and is reported by {@link #allocation}. Writes allocate the blocks they touch; {@link #trim} and
 * {@link #writeZeroes} turn whole blocks back into holes and zero the partial edges.
 *
 * <p>Test hooks:
 *
 * <ul>
 *   <li>{@link #failWith} makes every later call of one operation fail with a given exception;
 *   <li>{@link #hold} parks later calls of one operation, unexecuted, until the returned {@link
 *       Gate} is opened, so tests can keep requests in flight and complete them out of order;
 *   <li>an {@code Executor} given to the constructor runs the operations and completes their
 *       futures, so callers see completions on foreign threads as with the real volume;
 *   <li>{@link #unflushedWrites()} and {@link #flushCount()} expose the durability model: a flush
 *       makes durable every write that completed before it started;
 *   <li>{@link #checksummedBlocks()} counts the block checksums that writes brought, each checked
 *       against its bytes: a write with a wrong one fails as {@link ErrorCode#CORRUPTED}.
 * </ul>
 *
 * <p>Thread-safe: all state is guarded by the instance lock. Ownership follows {@link BlockDevice}:
 * buffers passed to {@link #write} are released on every path, buffers returned by {@link #read}
 * belong to the caller.
 */
public final class ModelBlockDevice implements BlockDevice {
  /** The operations that hooks can target. */
  public enum Op {
    READ,
    WRITE,
    FLUSH,
    TRIM,
    WRITE_ZEROES,
    ALLOCATION
  }

  private final long size;
  private final int blockSize;
  private final boolean readOnly;
  private final Executor executor;
  private final byte[][] blocks;
  private final Map<Op, TorusException> failures = new EnumMap<>(Op.class);
  private final Map<Op, Gate> gates = new EnumMap<>(Op.class);
  private long completedWrites;
  private long durableWrites;
  private long flushes;
  private long checksummedBlocks;
  private boolean closed;

  /** A writable device whose operations run and complete on the calling thread. */
  public ModelBlockDevice(long size, int blockSize) {
    this(size, blockSize, false, Runnable::run);
  }

  /**
   * A device whose operations run on {@code executor}, which also completes their futures.
   *
   * @param readOnly whether writes, trims and zeroing fail with {@link ErrorCode#READ_ONLY}
   */
  public ModelBlockDevice(long size, int blockSize, boolean readOnly, Executor executor) {
    if (size < 0 || blockSize <= 0) {
      throw new IllegalArgumentException("size " + size + ", block size " + blockSize);
    }
    long count = (size + blockSize - 1) / blockSize;
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many blocks: " + count);
    }
    this.size = size;
    this.blockSize = blockSize;
    this.readOnly = readOnly;
    this.executor = executor;
    this.blocks = new byte[(int) count][];
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  @Override
  public CompletableFuture<ByteBuf> read(long offset, int length) {
    return run(Op.READ, () -> doRead(offset, length));
  }

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data) {
    return run(
        Op.WRITE,
        () -> {
          try {
            doWrite(offset, data);
            return null;
          } finally {
            data.release();
          }
        },
        data::release);
  }

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data, int[] blockCrcs) {
    int[] actual = wholeBlockCrcs(offset, data, blockSize);
    TorusException wrong = actual.length != blockCrcs.length
        ? TorusExceptions.invalid(blockCrcs.length + " checksums for " + actual.length
            + " whole blocks")
        : Arrays.equals(actual, blockCrcs) ? null : TorusExceptions.corrupted("wrong checksum");
    if (wrong != null) {
      data.release();
      return CompletableFuture.failedFuture(wrong);
    }
    synchronized (this) {
      checksummedBlocks += blockCrcs.length;
    }
    return write(offset, data);
  }

  /**
   * The CRC-32C of each whole aligned block in a write of {@code data}'s readable bytes at {@code
   * offset}, as {@link BlockDevice#write(long, ByteBuf, int[])} takes them.
   */
  public static int[] wholeBlockCrcs(long offset, ByteBuf data, int blockSize) {
    long firstWhole = (offset + blockSize - 1) / blockSize;
    long count = Math.max(0, (offset + data.readableBytes()) / blockSize - firstWhole);
    int[] crcs = new int[(int) count];
    for (int i = 0; i < crcs.length; i++) {
      int at = (int) ((firstWhole + i) * blockSize - offset) + data.readerIndex();
      crcs[i] = Crc32c.of(data, at, blockSize);
    }
    return crcs;
  }

  @Override
  public CompletableFuture<Void> flush() {
    return run(Op.FLUSH, this::doFlush);
  }

  @Override
  public CompletableFuture<Void> trim(long offset, long length) {
    return run(Op.TRIM, () -> doZero("trim", offset, length));
  }

  @Override
  public CompletableFuture<Void> writeZeroes(long offset, long length) {
    return run(Op.WRITE_ZEROES, () -> doZero("write zeroes", offset, length));
  }

  @Override
  public CompletableFuture<List<Extent>> allocation(long offset, long length) {
    return run(Op.ALLOCATION, () -> doAllocation(offset, length));
  }

  @Override
  public synchronized void close() {
    closed = true;
  }

  /** Whether {@link #close()} was called. */
  public synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Makes every later call of {@code op} fail with {@code failure} (before touching any data), or
   * with {@code null} restores normal operation.
   */
  public synchronized void failWith(Op op, @Nullable TorusException failure) {
    if (failure == null) {
      failures.remove(op);
    } else {
      failures.put(op, failure);
    }
  }

  /** Parks every later call of {@code op} until the returned gate opens. */
  public synchronized Gate hold(Op op) {
    Gate gate = new Gate();
    gates.put(op, gate);
    return gate;
  }

  /** Flushes that completed successfully. */
  public synchronized long flushCount() {
    return flushes;
  }

  /** Writes (including trims and zeroing) that completed but no completed flush covers yet. */
  public synchronized long unflushedWrites() {
    return completedWrites - durableWrites;
  }

  /** Block checksums that writes brought; every one matched its bytes. */
  public synchronized long checksummedBlocks() {
    return checksummedBlocks;
  }

  /** A copy of {@code length} bytes at {@code offset}, read directly, ignoring hooks. */
  public synchronized byte[] contents(long offset, int length) {
    checkRange(offset, length);
    byte[] out = new byte[length];
    copyOut(offset, out);
    return out;
  }

  /** Whether the block with this index holds data (is not a hole). */
  public synchronized boolean isAllocated(long blockIndex) {
    return blocks[Math.toIntExact(blockIndex)] != null;
  }

  /**
   * Parks operations until {@link #open()}. Operations that arrive while the gate is closed run in
   * arrival order when it opens (on the opening thread unless the device has an executor).
   */
  public final class Gate {
    private final CompletableFuture<Void> opened = new CompletableFuture<>();
    private final Semaphore arrivals = new Semaphore(0);
    private final AtomicInteger arrived = new AtomicInteger();

    private Gate() {}

    /** Lets every parked and later operation run; later operations are no longer parked. */
    public void open() {
      synchronized (ModelBlockDevice.this) {
        gates.values().remove(this);
      }
      opened.complete(null);
    }

    /** Operations that arrived at the gate so far. */
    public int arrived() {
      return arrived.get();
    }

    /** Waits until {@code count} operations arrived at the gate since the last wait. */
    public void awaitArrivals(int count, Duration timeout) {
      try {
        if (!arrivals.tryAcquire(count, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
          throw new AssertionError(
              "expected " + count + " operations at the gate within " + timeout);
        }
      } catch (InterruptedException e) {
        throw TorusExceptions.interrupted(e);
      }
    }
  }

  private <T> CompletableFuture<T> run(Op op, Supplier<@Nullable T> action) {
    return run(op, action, () -> {});
  }

  /** Runs {@code action} after any gate, on the executor; {@code onSkip} runs if it never does. */
  private <T> CompletableFuture<T> run(
      Op op, Supplier<@Nullable T> action, Runnable onSkip) {
    Gate gate;
    synchronized (this) {
      gate = gates.get(op);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable task =
        () -> {
          try {
            result.complete(action.get());
          } catch (RuntimeException e) {
            result.completeExceptionally(e);
          }
        };
    Runnable guarded =
        () -> {
          TorusException failure = checkHooks(op);
          if (failure != null) {
            onSkip.run();
            result.completeExceptionally(failure);
          } else {
            task.run();
          }
        };
    try {
      if (gate == null) {
        executor.execute(guarded);
      } else {
        gate.arrived.incrementAndGet();
        gate.arrivals.release();
        gate.opened.thenRun(() -> executor.execute(guarded));
      }
    } catch (RuntimeException e) {
      onSkip.run();
      result.completeExceptionally(e);
    }
    return result;
  }

  private synchronized @Nullable TorusException checkHooks(Op op) {
    if (closed) {
      return TorusExceptions.closed("model block device");
    }
    return failures.get(op);
  }

  private synchronized ByteBuf doRead(long offset, int length) {
    checkRange(offset, length);
    byte[] out = new byte[length];
    copyOut(offset, out);
    return Unpooled.wrappedBuffer(out);
  }

  private synchronized void doWrite(long offset, ByteBuf data) {
    checkWritable();
    int length = data.readableBytes();
    checkRange(offset, length);
    int index = data.readerIndex();
    long pos = offset;
    while (pos < offset + length) {
      int block = (int) (pos / blockSize);
      int within = (int) (pos % blockSize);
      int n = (int) Math.min(blockSize - within, offset + length - pos);
      if (blocks[block] == null) {
        blocks[block] = new byte[blockSize];
      }
      data.getBytes(index, blocks[block], within, n);
      index += n;
      pos += n;
    }
    completedWrites++;
  }

  private synchronized @Nullable Void doFlush() {
    long covered = completedWrites;
    flushes++;
    durableWrites = covered;
    return null;
  }

  private synchronized @Nullable Void doZero(String what, long offset, long length) {
    checkWritable();
    checkRange(offset, length);
    long pos = offset;
    while (pos < offset + length) {
      int block = (int) (pos / blockSize);
      int within = (int) (pos % blockSize);
      int n = (int) Math.min(blockSize - within, offset + length - pos);
      if (n == blockSize || (within == 0 && pos + n == size)) {
        blocks[block] = null;
      } else if (blocks[block] != null) {
        Arrays.fill(blocks[block], within, within + n, (byte) 0);
      }
      pos += n;
    }
    completedWrites++;
    return null;
  }

  private synchronized List<Extent> doAllocation(long offset, long length) {
    checkRange(offset, length);
    List<Extent> extents = new ArrayList<>();
    long pos = offset;
    long end = offset + length;
    while (pos < end) {
      boolean hole = blocks[(int) (pos / blockSize)] == null;
      long next = pos;
      while (next < end && (blocks[(int) (next / blockSize)] == null) == hole) {
        next = Math.min(end, (next / blockSize + 1) * blockSize);
      }
      extents.add(new Extent(pos, next - pos, hole));
      pos = next;
    }
    return extents;
  }

  private void copyOut(long offset, byte[] out) {
    long pos = offset;
    int at = 0;
    while (at < out.length) {
      int block = (int) (pos / blockSize);
      int within = (int) (pos % blockSize);
      int n = Math.min(blockSize - within, out.length - at);
      if (blocks[block] != null) {
        System.arraycopy(blocks[block], within, out, at, n);
      }
      at += n;
      pos += n;
    }
  }

  private void checkWritable() {
    if (readOnly) {
      throw TorusExceptions.readOnly("model block device");
    }
  }

  private void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset > size - length) {
      throw TorusExceptions.invalid(
          "range " + offset + "+" + length + " is outside the device (size " + size + ")");
    }
  }
}
