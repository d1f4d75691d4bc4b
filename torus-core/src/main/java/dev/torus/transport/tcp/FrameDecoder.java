package dev.torus.transport.tcp;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. It checks the magic and the version as soon as their
 * bytes arrive, so garbage is refused after its first byte, and refuses a body longer than the
 * limit before any of it is buffered.
 *
 * <p>Failure: a violation throws a {@link TorusException} with {@code PROTOCOL} (Netty wraps it in
 * a {@code DecoderException}); framing is lost then, so the decoder drops everything after it and
 * the handler answers with an error frame and closes the connection.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  private final long maxBodyBytes;
  private boolean failed;

  FrameDecoder(long maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int start = in.readerIndex();
    int readable = in.readableBytes();
    if (readable >= 1 && in.getUnsignedByte(start) != Protocol.MAGIC_0
        || readable >= 2 && in.getUnsignedByte(start + 1) != Protocol.MAGIC_1) {
      throw violation(in, String.format("bad magic 0x%s: not a Torus peer protocol frame",
          ByteBufUtil.hexDump(in, start, Math.min(2, readable))));
    }
    if (readable >= 3) {
      int version = in.getUnsignedByte(start + 2);
      if (version < Protocol.MIN_VERSION || version > Protocol.MAX_VERSION) {
        throw violation(in, "unsupported protocol version " + version
            + " in frame header; this node speaks "
            + Protocol.MIN_VERSION + ".." + Protocol.MAX_VERSION);
      }
    }
    if (readable < Protocol.HEADER_BYTES) {
      return;
    }
    long length = in.getUnsignedIntLE(start + Protocol.LENGTH_OFFSET);
    if (length > maxBodyBytes) {
      throw violation(in,
          "frame body of " + length + " bytes exceeds the limit of " + maxBodyBytes);
    }
    if (readable < Protocol.HEADER_BYTES + length) {
      return;
    }
    int version = in.getUnsignedByte(start + 2);
    int type = in.getUnsignedByte(start + 3);
    int requestId = in.getIntLE(start + Protocol.ID_OFFSET);
    in.skipBytes(Protocol.HEADER_BYTES);
    out.add(new Frame(version, type, requestId, in.readRetainedSlice((int) length)));
  }

  private TorusException violation(ByteBuf in, String message) {
    failed = true;
    in.skipBytes(in.readableBytes());
    return new TorusException(ErrorCode.PROTOCOL, message);
  }
}
