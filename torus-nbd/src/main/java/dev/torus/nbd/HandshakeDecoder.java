package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Frames the client's side of the fixed-newstyle handshake: the 32-bit client flags, then options
 * ({@code IHAVEOPT}, option u32, length u32, data). It only frames; {@link HandshakeHandler}
 * decides what the options mean.
 *
 * <p>Option data up to {@link #MAX_OPTION_DATA} bytes is delivered as a retained slice (the
 * receiver releases it). Longer data, which no valid option needs, is skipped as it arrives,
 * without buffering, and the option is delivered without data so the handler can refuse it and
 * keep parsing. A wrong option magic cannot be resynchronised and fails the channel.
 */
final class HandshakeDecoder extends ByteToMessageDecoder {
  /** Largest option data buffered: room for a GO or a SET_META_CONTEXT with many queries. */
  static final int MAX_OPTION_DATA = 64 * 1024;

  /** The client flags that follow the server's greeting. */
  record ClientFlags(int flags) {}

  /**
   * One option. {@code data} is null when the data was longer than {@link #MAX_OPTION_DATA} and
   * was skipped; {@code length} is the length the client announced.
   */
  record Option(int code, @Nullable ByteBuf data, long length) {}

  private enum State {
    CLIENT_FLAGS,
    OPTION_HEADER,
    OPTION_DATA,
    SKIP_DATA
  }

  private State state = State.CLIENT_FLAGS;
  private int option;
  private long length;
  private long remaining;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    switch (state) {
      case CLIENT_FLAGS -> {
        if (in.readableBytes() >= 4) {
          out.add(new ClientFlags(in.readInt()));
          state = State.OPTION_HEADER;
        }
      }
      case OPTION_HEADER -> {
        if (in.readableBytes() < NbdProtocol.OPTION_HEADER_SIZE) {
          return;
        }
        long magic = in.readLong();
        if (magic != NbdProtocol.IHAVEOPT) {
          throw new CorruptedFrameException(
              "bad option magic 0x" + Long.toHexString(magic) + ", expected IHAVEOPT");
        }
        option = in.readInt();
        length = in.readUnsignedInt();
        remaining = length;
        state = length <= MAX_OPTION_DATA ? State.OPTION_DATA : State.SKIP_DATA;
        // Data may already be here, or be empty: the caller stops calling once input runs out.
        decodeData(in, out);
      }
      case OPTION_DATA -> decodeData(in, out);
      case SKIP_DATA -> {
        int n = (int) Math.min(remaining, in.readableBytes());
        in.skipBytes(n);
        remaining -= n;
        if (remaining == 0) {
          out.add(new Option(option, null, length));
          state = State.OPTION_HEADER;
        }
      }
    }
  }

  private void decodeData(ByteBuf in, List<Object> out) {
    if (state == State.OPTION_DATA && in.readableBytes() >= length) {
      out.add(new Option(option, in.readRetainedSlice((int) length), length));
      state = State.OPTION_HEADER;
    }
  }
}
