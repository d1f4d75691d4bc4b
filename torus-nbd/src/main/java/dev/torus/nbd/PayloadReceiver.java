package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * Gathers one WRITE payload that covers at least one whole aligned block of the device, so that
 * the device keeps those blocks' buffers instead of copying them ({@link
 * dev.torus.volume.BlockDevice#bufferAllocator()}).
 *
 * <p>Bytes of a whole block go into a block-sized buffer from the device's allocator. When the
 * decoder holds nothing else, {@link #receiveBuffer()} offers the next socket read a place for the
 * whole blocks' bytes: the unfilled rest of the block when blocks are at least as large as a
 * socket read should be, so the kernel copies them straight into the block; otherwise the
 * connection's read buffer, from which they are copied into the blocks. The second copy is cheaper
 * than the reads it saves: reading 32 KiB blocks one at a time took 32 system calls, and as many
 * TCP window updates, per MiB written; through the read buffer it takes about three, and the copy
 * comes out of memory the CPU's caches still hold. Only whole blocks' bytes are read into the read
 * buffer, so it is free again when {@link #absorb} returns. Bytes of the partial blocks at either
 * end stay slices of the socket's buffers, as a short write's payload does. The payload is a
 * composite of those slices and the block buffers, in order.
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
  private final CompositeByteBuf payload = Unpooled.compositeBuffer(Integer.MAX_VALUE);
  /** Device offsets: the payload's end, and the whole blocks' range inside it. */
  private final long end;
  private final long wholeStart;
  private final long wholeEnd;
  /** Device offset of the next payload byte. */
  private long position;
  private @Nullable ByteBuf block;
  /** The part of {@link #block} lent to the socket read now under way. */
  private @Nullable ByteBuf lent;
  private final CRC32C blockCrc = new CRC32C();
  private final int[] blockCrcs;
  private int blocksDone;

  /**
   * @param readBuffer the connection's buffer for socket reads of whole blocks, lent to one read at
   *     a time; null to read them into the blocks
   */
  PayloadReceiver(long offset, int length, int blockSize, ByteBufAllocator blocks,
      @Nullable ByteBuf readBuffer) {
    this.blockSize = blockSize;
    this.blocks = blocks;
    this.readBuffer = readBuffer;
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
    if (in == lent) { // the read put these bytes into the block already
      int n = in.readableBytes();
      checksum(in, n);
      in.skipBytes(n);
      ByteBuf filling = block();
      filling.writerIndex(filling.writerIndex() + n);
      filled(n);
    }
    lent = null;
    while (position < end && in.isReadable()) {
      if (inWholeBlock()) {
        ByteBuf filling = block();
        int n = Math.min(in.readableBytes(), filling.writableBytes());
        checksum(in, n);
        filling.writeBytes(in, n);
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
   * Where the next socket read should put its bytes, up to the end of the whole blocks: the read
   * buffer or the rest of the block being received. Null when the next bytes belong to a partial
   * block. Each call takes back what the previous one lent.
   */
  @Nullable ByteBuf receiveBuffer() {
    lent = null;
    if (!inWholeBlock()) {
      return null;
    }
    if (readBuffer != null) {
      int n = (int) Math.min(readBuffer.capacity(), wholeEnd - position);
      return readBuffer.retainedSlice(0, n).clear(); // absorb copies every byte of it out
    }
    ByteBuf filling = block();
    int filled = filling.writerIndex();
    lent = filling.retainedSlice(filled, blockSize - filled).clear();
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
    if (block != null) {
      block.release();
      block = null;
    }
  }

  private boolean inWholeBlock() {
    return position >= wholeStart && position < wholeEnd;
  }

  private ByteBuf block() {
    if (block == null) {
      block = blocks.directBuffer(blockSize, blockSize);
    }
    return block;
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

  private void filled(int n) {
    position += n;
    if (!block().isWritable()) {
      payload.addComponent(true, block);
      block = null;
      blockCrcs[blocksDone++] = (int) blockCrc.getValue();
      blockCrc.reset();
    }
  }
}
