package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Encodes what the server sends during the handshake: the greeting, fixed-newstyle option replies
 * ({@code 0x3e889045565a9}, option u32, reply type u32, length u32, data) and the old {@code
 * NBD_OPT_EXPORT_NAME} answer. Each method returns a complete buffer the caller writes.
 */
final class OptionReplies {
  private OptionReplies() {}

  /** NBDMAGIC, IHAVEOPT, handshake flags FIXED_NEWSTYLE | NO_ZEROES. */
  static ByteBuf greeting(ByteBufAllocator alloc) {
    return alloc
        .buffer(18)
        .writeLong(NbdProtocol.NBDMAGIC)
        .writeLong(NbdProtocol.IHAVEOPT)
        .writeShort(NbdProtocol.NBD_FLAG_FIXED_NEWSTYLE | NbdProtocol.NBD_FLAG_NO_ZEROES);
  }

  /** {@code NBD_REP_ACK}. */
  static ByteBuf ack(ByteBufAllocator alloc, int option) {
    return header(alloc, option, NbdProtocol.NBD_REP_ACK, 0);
  }

  /** An error reply ({@code NBD_REP_ERR_*}) carrying a message for the user. */
  static ByteBuf error(ByteBufAllocator alloc, int option, int type, String message) {
    byte[] text = NbdProtocol.messageBytes(message);
    return header(alloc, option, type, text.length).writeBytes(text);
  }

  /** {@code NBD_REP_SERVER}: name-length u32, name, then the description as free text. */
  static ByteBuf server(ByteBufAllocator alloc, String name, String description) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    byte[] d = description.getBytes(StandardCharsets.UTF_8);
    return header(alloc, NbdOption.LIST.code(), NbdProtocol.NBD_REP_SERVER, 4 + n.length + d.length)
        .writeInt(n.length)
        .writeBytes(n)
        .writeBytes(d);
  }

  /** {@code NBD_REP_INFO} with {@code NBD_INFO_EXPORT}: size u64, transmission flags u16. */
  static ByteBuf infoExport(ByteBufAllocator alloc, int option, long size, int flags) {
    return header(alloc, option, NbdProtocol.NBD_REP_INFO, 12)
        .writeShort(NbdProtocol.NBD_INFO_EXPORT)
        .writeLong(size)
        .writeShort(flags);
  }

  /** {@code NBD_REP_INFO} with {@code NBD_INFO_NAME} or {@code NBD_INFO_DESCRIPTION}. */
  static ByteBuf infoString(ByteBufAllocator alloc, int option, int infoType, String value) {
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    return header(alloc, option, NbdProtocol.NBD_REP_INFO, 2 + v.length)
        .writeShort(infoType)
        .writeBytes(v);
  }

  /** {@code NBD_REP_INFO} with {@code NBD_INFO_BLOCK_SIZE}: minimum, preferred, maximum u32. */
  static ByteBuf infoBlockSize(
      ByteBufAllocator alloc, int option, int minimum, int preferred, int maximum) {
    return header(alloc, option, NbdProtocol.NBD_REP_INFO, 14)
        .writeShort(NbdProtocol.NBD_INFO_BLOCK_SIZE)
        .writeInt(minimum)
        .writeInt(preferred)
        .writeInt(maximum);
  }

  /** {@code NBD_REP_META_CONTEXT}: context id u32, name. */
  static ByteBuf metaContext(ByteBufAllocator alloc, int option, int id, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return header(alloc, option, NbdProtocol.NBD_REP_META_CONTEXT, 4 + n.length)
        .writeInt(id)
        .writeBytes(n);
  }

  /**
   * The answer to {@code NBD_OPT_EXPORT_NAME}: size u64, flags u16, then 124 zero bytes unless the
   * client negotiated {@code NBD_FLAG_C_NO_ZEROES}.
   */
  static ByteBuf exportName(ByteBufAllocator alloc, long size, int flags, boolean noZeroes) {
    int padding = noZeroes ? 0 : NbdProtocol.EXPORT_NAME_PADDING;
    return alloc.buffer(10 + padding).writeLong(size).writeShort(flags).writeZero(padding);
  }

  private static ByteBuf header(ByteBufAllocator alloc, int option, int type, int length) {
    return alloc
        .buffer(20 + length)
        .writeLong(NbdProtocol.OPTION_REPLY_MAGIC)
        .writeInt(option)
        .writeInt(type)
        .writeInt(length);
  }
}
