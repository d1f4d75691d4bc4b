package dev.torus.nbd;

import static dev.torus.nbd.NbdProtocol.NBD_REPLY_FLAG_DONE;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Frames {@link NbdReply}s for the connection's {@link ReplyStyle}.
 *
 * <ul>
 *   <li>SIMPLE: a 16-byte simple reply, followed by the data of a successful read (holes are sent
 *       as zeroes).
 *   <li>STRUCTURED: reads, errors and block status as 20-byte-header chunks, the last one flagged
 *       DONE; a success without data stays a simple reply, which the spec allows for every
 *       command but READ.
 *   <li>EXTENDED: every reply is a 32-byte-header chunk echoing the request offset; a success
 *       without data is a NONE chunk; block status uses the 64-bit BLOCK_STATUS_EXT.
 * </ul>
 *
 * <p>Read data is passed on as the reply's own buffers after a small header buffer, never copied.
 */
final class ReplyEncoder extends MessageToMessageEncoder<NbdReply> {
  private final ReplyStyle style;

  ReplyEncoder(ReplyStyle style) {
    super(NbdReply.class);
    this.style = style;
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, NbdReply reply, List<Object> out) {
    ByteBufAllocator alloc = ctx.alloc();
    if (reply instanceof NbdReply.Done done) {
      if (style == ReplyStyle.EXTENDED) {
        out.add(chunk(alloc, done, NBD_REPLY_FLAG_DONE, NbdProtocol.NBD_REPLY_TYPE_NONE, 0, 0));
      } else {
        out.add(simple(alloc, done.cookie(), 0));
      }
    } else if (reply instanceof NbdReply.Failed failed) {
      encodeFailure(alloc, failed, out);
    } else if (reply instanceof NbdReply.Read read) {
      encodeRead(alloc, read, out);
    } else if (reply instanceof NbdReply.Status status) {
      encodeStatus(alloc, status, out);
    }
  }

  private void encodeFailure(ByteBufAllocator alloc, NbdReply.Failed failed, List<Object> out) {
    if (style == ReplyStyle.SIMPLE) {
      out.add(simple(alloc, failed.cookie(), failed.error().code()));
      return;
    }
    byte[] message = NbdProtocol.messageBytes(failed.message());
    int length = 6 + message.length;
    out.add(
        chunk(alloc, failed, NBD_REPLY_FLAG_DONE, NbdProtocol.NBD_REPLY_TYPE_ERROR, length, length)
            .writeInt(failed.error().code())
            .writeShort(message.length)
            .writeBytes(message));
  }

  private void encodeRead(ByteBufAllocator alloc, NbdReply.Read read, List<Object> out) {
    List<NbdReply.Segment> segments = read.segments();
    if (style == ReplyStyle.SIMPLE) {
      out.add(simple(alloc, read.cookie(), 0));
      for (NbdReply.Segment s : segments) {
        out.add(s.data() != null ? s.data() : alloc.buffer(s.length()).writeZero(s.length()));
      }
      return;
    }
    if (segments.isEmpty()) {
      out.add(chunk(alloc, read, NBD_REPLY_FLAG_DONE, NbdProtocol.NBD_REPLY_TYPE_NONE, 0, 0));
      return;
    }
    for (int i = 0; i < segments.size(); i++) {
      NbdReply.Segment s = segments.get(i);
      int flags = i == segments.size() - 1 ? NBD_REPLY_FLAG_DONE : 0;
      if (s.data() == null) {
        out.add(
            chunk(alloc, read, flags, NbdProtocol.NBD_REPLY_TYPE_OFFSET_HOLE, 12, 12)
                .writeLong(s.offset())
                .writeInt(s.length()));
      } else {
        long length = 8L + s.length();
        out.add(
            chunk(alloc, read, flags, NbdProtocol.NBD_REPLY_TYPE_OFFSET_DATA, length, 8)
                .writeLong(s.offset()));
        out.add(s.data());
      }
    }
  }

  private void encodeStatus(ByteBufAllocator alloc, NbdReply.Status status, List<Object> out) {
    List<NbdReply.StatusExtent> extents = status.extents();
    if (style == ReplyStyle.SIMPLE) {
      // BLOCK_STATUS needs a metadata context, which needs structured replies.
      throw new EncoderException("block status cannot be sent as a simple reply");
    }
    if (style == ReplyStyle.STRUCTURED) {
      int length = 4 + 8 * extents.size();
      ByteBuf buf =
          chunk(alloc, status, NBD_REPLY_FLAG_DONE, NbdProtocol.NBD_REPLY_TYPE_BLOCK_STATUS,
                  length, length)
              .writeInt(status.contextId());
      for (NbdReply.StatusExtent e : extents) {
        buf.writeInt((int) e.length()).writeInt(e.flags());
      }
      out.add(buf);
    } else {
      int length = 8 + 16 * extents.size();
      ByteBuf buf =
          chunk(alloc, status, NBD_REPLY_FLAG_DONE, NbdProtocol.NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                  length, length)
              .writeInt(status.contextId())
              .writeInt(extents.size());
      for (NbdReply.StatusExtent e : extents) {
        buf.writeLong(e.length()).writeLong(e.flags() & 0xffffffffL);
      }
      out.add(buf);
    }
  }

  private static ByteBuf simple(ByteBufAllocator alloc, long cookie, int error) {
    return alloc
        .buffer(NbdProtocol.SIMPLE_REPLY_SIZE)
        .writeInt(NbdProtocol.NBD_SIMPLE_REPLY_MAGIC)
        .writeInt(error)
        .writeLong(cookie);
  }

  /**
   * A chunk header announcing {@code length} payload bytes, in a buffer with room for the first
   * {@code inline} of them, which the caller writes.
   */
  private ByteBuf chunk(
      ByteBufAllocator alloc, NbdReply reply, int flags, int type, long length, int inline) {
    if (style == ReplyStyle.EXTENDED) {
      return alloc
          .buffer(NbdProtocol.EXTENDED_REPLY_SIZE + inline)
          .writeInt(NbdProtocol.NBD_EXTENDED_REPLY_MAGIC)
          .writeShort(flags)
          .writeShort(type)
          .writeLong(reply.cookie())
          .writeLong(reply.offset())
          .writeLong(length);
    }
    return alloc
        .buffer(NbdProtocol.STRUCTURED_REPLY_SIZE + inline)
        .writeInt(NbdProtocol.NBD_STRUCTURED_REPLY_MAGIC)
        .writeShort(flags)
        .writeShort(type)
        .writeLong(reply.cookie())
        .writeInt((int) length);
  }
}
