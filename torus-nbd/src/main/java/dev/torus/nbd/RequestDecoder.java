package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Frames transmission requests: compact 28-byte headers ({@code NBD_REQUEST_MAGIC}, 32-bit length,
 * a payload only for WRITE) or, after {@code NBD_OPT_EXTENDED_HEADERS}, 32-byte headers ({@code
 * NBD_EXTENDED_REQUEST_MAGIC}, 64-bit length, a payload exactly when {@code
 * NBD_CMD_FLAG_PAYLOAD_LEN} is set).
 *
 * <p>A payload up to the connection's maximum is delivered as a retained slice of the input, so
 * write data reaches the device without another copy. While a payload is still arriving, the
 * socket's buffers are gathered into a composite instead of being merged into one buffer: merging
 * copied every byte of a large write once more before the device saw it. A payload that holds a
 * whole aligned block of the device is received into the device's own block buffers instead
 * ({@link PayloadReceiver}, {@link #receiveBuffer()}), which the device keeps. A longer payload
 * is skipped as it arrives and the request delivered without it, which keeps the stream in sync
 * and lets the handler answer EINVAL instead of buffering a client-chosen amount of memory. After
 * {@code NBD_CMD_DISC} the client may send nothing more, so every later byte is ignored. A wrong
 * magic cannot be resynchronised and fails the channel (a hard disconnect).
 *
 * <p>Whole blocks smaller than {@link #READ_SIZE} are allocated that many bytes at a time, in runs
 * of adjacent blocks where the device's allocator makes them, and read into directly; those not
 * in a long enough run are read through a connection's read buffer of that size, allocated at the
 * first such payload and kept until the channel closes.
 */
final class RequestDecoder extends ByteToMessageDecoder {
  private enum State {
    HEADER,
    PAYLOAD,
    BLOCKS,
    SKIP_PAYLOAD,
    AFTER_DISC
  }

  /**
   * How many bytes of whole blocks one socket read should be able to take, as much as a typical
   * large write: reading 32 KiB blocks one at a time made in-memory 1 MiB writes cost about 15%
   * more CPU than reads through a buffer of this size, which costs a MiB per connection.
   */
  static final int READ_SIZE = 1024 * 1024;

  private final boolean extended;
  private final int maxPayload;
  private final int blockSize;
  private final ByteBufAllocator blocks;
  private final int readSize;
  private @Nullable ByteBuf readBuffer;
  private @Nullable PayloadReceiver receiving;
  private State state = State.HEADER;
  private int flags;
  private int type;
  private long cookie;
  private long offset;
  private long length;
  private long remaining;

  /**
   * @param blockSize the device's block size
   * @param blocks where the device wants whole blocks of written data ({@link
   *     dev.torus.volume.BlockDevice#bufferAllocator()})
   * @param readSize {@link #READ_SIZE}, or another size in tests
   */
  RequestDecoder(boolean extended, int maxPayload, int blockSize, ByteBufAllocator blocks,
      int readSize) {
    this.extended = extended;
    this.maxPayload = maxPayload;
    this.blockSize = blockSize;
    this.blocks = blocks;
    this.readSize = readSize;
  }

  /**
   * Where the next socket read should put its bytes: the rest of the block a payload is filling,
   * or null for a buffer of the channel's choosing. Only while nothing is buffered here, so the
   * bytes read come next in the stream.
   */
  @Nullable ByteBuf receiveBuffer() {
    PayloadReceiver r = receiving;
    return r == null || internalBuffer().isReadable() ? null : r.receiveBuffer();
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    if (receiving != null) {
      receiving.release();
      receiving = null;
    }
    if (readBuffer != null) {
      readBuffer.release();
      readBuffer = null;
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    switch (state) {
      case HEADER -> decodeHeader(ctx, in, out);
      case PAYLOAD -> {
        if (in.readableBytes() >= length) {
          out.add(new NbdRequest(flags, type, cookie, offset, length,
              in.readRetainedSlice((int) length)));
          state = State.HEADER;
          setCumulator(MERGE_CUMULATOR); // headers parse faster from one buffer
        }
      }
      case BLOCKS -> {
        PayloadReceiver r = receiving;
        if (r != null && r.absorb(in)) {
          out.add(new NbdRequest(flags, type, cookie, offset, length, r.payload(), r.blockCrcs()));
          receiving = null;
          state = State.HEADER;
        }
      }
      case SKIP_PAYLOAD -> {
        int n = (int) Math.min(remaining, in.readableBytes());
        in.skipBytes(n);
        remaining -= n;
        if (remaining == 0) {
          state = State.HEADER;
        }
      }
      case AFTER_DISC -> in.skipBytes(in.readableBytes());
    }
  }

  private void decodeHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int size = extended ? NbdProtocol.EXTENDED_REQUEST_SIZE : NbdProtocol.REQUEST_SIZE;
    if (in.readableBytes() < size) {
      return;
    }
    int magic = in.readInt();
    int expected =
        extended ? NbdProtocol.NBD_EXTENDED_REQUEST_MAGIC : NbdProtocol.NBD_REQUEST_MAGIC;
    if (magic != expected) {
      throw new CorruptedFrameException(
          "bad request magic 0x" + Integer.toHexString(magic) + ", expected 0x"
              + Integer.toHexString(expected));
    }
    flags = in.readUnsignedShort();
    type = in.readUnsignedShort();
    cookie = in.readLong();
    offset = in.readLong();
    length = extended ? in.readLong() : in.readUnsignedInt();
    boolean hasPayload =
        extended
            ? (flags & NbdProtocol.NBD_CMD_FLAG_PAYLOAD_LEN) != 0
            : type == NbdCommand.WRITE.code();
    if (!hasPayload || length == 0) {
      out.add(new NbdRequest(flags, type, cookie, offset, length, null));
      if (type == NbdCommand.DISC.code()) {
        state = State.AFTER_DISC;
      }
    } else if (length > 0 && length <= maxPayload
        && PayloadReceiver.holdsWholeBlock(offset, length, blockSize)) {
      if (blockSize < readSize && readBuffer == null) {
        // Its own memory: kept for the connection's life, it would pin a chunk of a shared pool.
        readBuffer = Unpooled.directBuffer(readSize, readSize);
      }
      receiving = new PayloadReceiver(offset, (int) length, blockSize, blocks,
          blockSize < readSize ? readBuffer : null);
      state = State.BLOCKS;
    } else if (length > 0 && length <= maxPayload) {
      state = State.PAYLOAD;
      if (in.readableBytes() < length) {
        setCumulator(COMPOSITE_CUMULATOR);
      }
    } else if (length > 0) {
      out.add(new NbdRequest(flags, type, cookie, offset, length, null));
      remaining = length;
      state = State.SKIP_PAYLOAD;
    } else {
      throw new CorruptedFrameException("payload length beyond 2^63: " + length);
    }
  }
}
