package dev.torus.nbd;

import dev.torus.storage.BlockRunAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * Gathers one WRITE payload that covers at least one whole aligned block of the device, so that
 * the device keeps those blocks' buffers instead of copying them ({@link
 * dev.torus.volume.BlockDevice#bufferAllocator()}).
 *
 * <p>Bytes of a whole block go into a block-sized buffer from the device's allocator. When the
 * decoder holds nothing else, {@link #receiveBuffer()} offers the next socket read a place for the
 * whole blocks' bytes, so that the kernel copies them straight into the blocks where that is
 * cheap:
 *
 * <ul>
 *   <li>When the allocator hands out blocks in runs of adjacent memory ({@link
 *       BlockRunAllocator}, an in-memory volume's), a read's worth of blocks is allocated as one
 *       run and a socket read fills as much of it as has arrived. Copying from a read buffer into
 *       the blocks had been the largest single cost of in-memory 1 MiB writes.
 *   <li>Otherwise, and for runs too short to be worth their reads, the connection's read buffer
 *       takes the bytes, and they are copied into the blocks. The copy is cheaper than the reads
 *       it saves: reading 32 KiB blocks one at a time took 32 system calls, and as many TCP window
 *       updates, per MiB written; through the read buffer it takes about three, and the copy
 *       comes out of memory the CPU's caches still hold. Only whole blocks' bytes are read into
 *       the read buffer, so it is free again when {@link #absorb} returns.
 *   <li>Blocks at least as large as a read buffer is the rest of the block being filled.
 * </ul>
 *
 * <p>Bytes of the partial blocks at either end stay slices of the socket's buffers, as a short
 * write's payload does. The payload is a composite of those slices and the block buffers, in
 * order.
 *
 * <p>Each whole block's checksum is taken here too, piece by piece as its bytes arrive: they are
 * in the CPU's caches now, and by the time the device would get to them a request of 1 MiB has
 * pushed the first blocks out ({@link dev.torus.volume.BlockDevice#write(long, ByteBuf, int[])}).
 */
final class PayloadReceiver {
  private final int blockSize;
  private final ByteBufAllocator blocks;
  /** Where socket reads put whole blocks' bytes; null when they go into the blocks themselves. */
  private final @Nullable ByteBuf readBuffer;
  /** How many blocks to allocate at a time, a run of them if the allocator makes runs. */
  private final int blocksPerRead;
  /**
   * Shorter runs, an eighth of a read's blocks, are filled through the read buffer: the copy costs
   * less than the socket reads a run of a few blocks takes.
   */
  private final int minRunBytes;
  private final CompositeByteBuf payload = Unpooled.compositeBuffer(Integer.MAX_VALUE);
  /** Device offsets: the payload's end, and the whole blocks' range inside it. */
  private final long end;
  private final long wholeStart;
  private final long wholeEnd;
  /** Device offset of the next payload byte. */
  private long position;
  /** Blocks allocated and not yet full, in payload order; the first is the one being filled. */
  private final ArrayDeque<ByteBuf> filling = new ArrayDeque<>();
  /**
   * A view of the memory of the blocks in {@link #filling} when they are a run, adjacent in
   * memory; its writer index is where the next byte goes.
   */
  private @Nullable ByteBuf run;
  /** What was lent to the socket read now under way: part of the run or of the first block. */
  private @Nullable ByteBuf lent;
  private final CRC32C blockCrc = new CRC32C();
  private final int[] blockCrcs;
  private int blocksDone;

  /**
   * @param readBuffer the connection's buffer for socket reads of whole blocks, lent to one read at
   *     a time when the blocks are not in a run long enough; null to read them into the blocks
   */
  PayloadReceiver(long offset, int length, int blockSize, ByteBufAllocator blocks,
      @Nullable ByteBuf readBuffer) {
    this.blockSize = blockSize;
    this.blocks = blocks;
    this.readBuffer = readBuffer;
    this.blocksPerRead = readBuffer == null ? 1 : readBuffer.capacity() / blockSize;
    this.minRunBytes = blocksPerRead / 8 * blockSize;
    this.position = offset;
    this.end = offset + length;
    this.wholeStart = roundUp(offset, blockSize);
    this.wholeEnd = end / blockSize * blockSize;
    this.blockCrcs = new int[(int) ((wholeEnd - wholeStart) / blockSize)];
  }

  /** Whether a payload at {@code offset} holds a whole aligned block; offsets are unsigned. */
  static boolean holdsWholeBlock(long offset, long length, int blockSize) {
    if (offset < 0 || length > Long.MAX_VALUE - offset) {
      return false; // beyond 2^63: out of range for any device, so the handler refuses it
    }
    long start = roundUp(offset, blockSize);
    return (offset + length) / blockSize * blockSize - start >= blockSize;
  }

  private static long roundUp(long offset, int blockSize) {
    return -Math.floorDiv(-offset, blockSize) * blockSize;
  }

  /** Takes bytes of the payload from {@code in}; true once the payload is complete. */
  boolean absorb(ByteBuf in) {
    boolean inPlace = in == lent; // the read put these bytes into the blocks already
    lent = null;
    while (position < end && in.isReadable()) {
      if (inWholeBlock()) {
        ByteBuf block = nextBlock();
        int n = Math.min(in.readableBytes(), block.writableBytes());
        checksum(in, n);
        if (inPlace) {
          in.skipBytes(n);
          block.writerIndex(block.writerIndex() + n);
        } else {
          block.writeBytes(in, n);
        }
        filled(n);
      } else {
        long segmentEnd = position < wholeStart ? wholeStart : end;
        int n = (int) Math.min(in.readableBytes(), segmentEnd - position);
        payload.addComponent(true, in.readRetainedSlice(n));
        position += n;
      }
    }
    return position == end;
  }

  /**
   * Where the next socket read should put its bytes, up to the end of the whole blocks: the rest
   * of a run of blocks that is long enough to be worth a read of its own, else the read buffer,
   * else the rest of the block being received. Null when the next bytes belong to a partial
   * block. Each call takes back what the previous one lent.
   */
  @Nullable ByteBuf receiveBuffer() {
    lent = null;
    if (!inWholeBlock()) {
      return null;
    }
    ByteBuf block = nextBlock();
    ByteBuf r = run;
    if (r != null && (r.writableBytes() >= wholeEnd - position
        || r.writableBytes() >= minRunBytes)) {
      lent = r.retainedSlice(r.writerIndex(), r.writableBytes()).clear();
      return lent;
    }
    if (readBuffer != null) {
      int n = (int) Math.min(readBuffer.capacity(), wholeEnd - position);
      return readBuffer.retainedSlice(0, n).clear(); // absorb copies every byte of it out
    }
    lent = block.retainedSlice(block.writerIndex(), block.writableBytes()).clear();
    return lent;
  }

  /** The complete payload; the caller owns it. */
  ByteBuf payload() {
    return payload;
  }

  /** The checksums of the complete payload's whole blocks, in order. */
  int[] blockCrcs() {
    return blockCrcs;
  }

  /** Frees what an incomplete payload holds. */
  void release() {
    payload.release();
    filling.forEach(ByteBuf::release);
    filling.clear();
    if (run != null) {
      run.release();
      run = null;
    }
  }

  private boolean inWholeBlock() {
    return position >= wholeStart && position < wholeEnd;
  }

  /**
   * The block the next whole-block byte goes into. Blocks are allocated a read's worth at a time,
   * as a run of adjacent blocks when the allocator can make one, never beyond the whole blocks.
   */
  private ByteBuf nextBlock() {
    if (filling.isEmpty()) {
      int wanted = (int) Math.min(blocksPerRead, (wholeEnd - position) / blockSize);
      if (wanted > 1 && blocks instanceof BlockRunAllocator runs) {
        BlockRunAllocator.BlockRun allocated = runs.allocateRun(wanted);
        filling.addAll(allocated.blocks());
        run = allocated.view();
      } else {
        filling.add(blocks.directBuffer(blockSize, blockSize));
      }
    }
    return filling.element();
  }

  /** Adds the next {@code n} bytes of {@code in}, the block's next, to its checksum. */
  private void checksum(ByteBuf in, int n) {
    if (in.nioBufferCount() == 1) {
      blockCrc.update(in.nioBuffer(in.readerIndex(), n));
    } else {
      for (ByteBuffer part : in.nioBuffers(in.readerIndex(), n)) {
        blockCrc.update(part);
      }
    }
  }

  /** Counts {@code n} more bytes of the first block in {@link #filling} as received. */
  private void filled(int n) {
    position += n;
    if (run != null) {
      run.writerIndex(run.writerIndex() + n);
    }
    ByteBuf block = filling.element();
    if (!block.isWritable()) {
      payload.addComponent(true, filling.remove());
      blockCrcs[blocksDone++] = (int) blockCrc.getValue();
      blockCrc.reset();
      if (filling.isEmpty() && run != null) {
        run.release();
        run = null;
      }
    }
  }
}
