package dev.torus.nbd;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Wire constants of the NBD protocol, with the names used by the specification ({@code
 * NetworkBlockDevice/nbd doc/proto.md}, plus the extended-headers extension). All integers on the
 * wire are big-endian.
 */
final class NbdProtocol {
  private NbdProtocol() {}

  /** The IANA port for NBD. */
  static final int DEFAULT_PORT = 10809;

  // Handshake magics.
  /** {@code NBDMAGIC} (INIT_PASSWD): first 8 bytes the server sends. */
  static final long NBDMAGIC = 0x4e42444d41474943L;
  /** {@code IHAVEOPT}: newstyle greeting and the start of every client option. */
  static final long IHAVEOPT = 0x49484156454F5054L;
  /** Magic of every fixed-newstyle option reply. */
  static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

  // Handshake flags (server, u16) and client flags (u32).
  static final int NBD_FLAG_FIXED_NEWSTYLE = 0x1;
  static final int NBD_FLAG_NO_ZEROES = 0x2;
  static final int NBD_FLAG_C_FIXED_NEWSTYLE = 0x1;
  static final int NBD_FLAG_C_NO_ZEROES = 0x2;

  // Option reply types.
  static final int NBD_REP_ACK = 1;
  static final int NBD_REP_SERVER = 2;
  static final int NBD_REP_INFO = 3;
  static final int NBD_REP_META_CONTEXT = 4;
  static final int NBD_REP_ERR_UNSUP = 0x80000001;
  static final int NBD_REP_ERR_POLICY = 0x80000002;
  static final int NBD_REP_ERR_INVALID = 0x80000003;
  static final int NBD_REP_ERR_TLS_REQD = 0x80000005;
  static final int NBD_REP_ERR_UNKNOWN = 0x80000006;
  static final int NBD_REP_ERR_SHUTDOWN = 0x80000007;
  static final int NBD_REP_ERR_TOO_BIG = 0x80000009;
  static final int NBD_REP_ERR_EXT_HEADER_REQD = 0x8000000A;

  // Information types in NBD_REP_INFO.
  static final int NBD_INFO_EXPORT = 0;
  static final int NBD_INFO_NAME = 1;
  static final int NBD_INFO_DESCRIPTION = 2;
  static final int NBD_INFO_BLOCK_SIZE = 3;

  // Transmission flags (u16).
  static final int NBD_FLAG_HAS_FLAGS = 0x0001;
  static final int NBD_FLAG_READ_ONLY = 0x0002;
  static final int NBD_FLAG_SEND_FLUSH = 0x0004;
  static final int NBD_FLAG_SEND_FUA = 0x0008;
  static final int NBD_FLAG_SEND_TRIM = 0x0020;
  static final int NBD_FLAG_SEND_WRITE_ZEROES = 0x0040;
  static final int NBD_FLAG_SEND_DF = 0x0080;
  static final int NBD_FLAG_CAN_MULTI_CONN = 0x0100;
  static final int NBD_FLAG_SEND_CACHE = 0x0400;
  static final int NBD_FLAG_SEND_FAST_ZERO = 0x0800;

  // Transmission magics.
  static final int NBD_REQUEST_MAGIC = 0x25609513;
  static final int NBD_EXTENDED_REQUEST_MAGIC = 0x21e41c71;
  static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
  static final int NBD_EXTENDED_REPLY_MAGIC = 0x6e8a278c;

  // Command flags (u16).
  static final int NBD_CMD_FLAG_FUA = 0x01;
  static final int NBD_CMD_FLAG_NO_HOLE = 0x02;
  static final int NBD_CMD_FLAG_DF = 0x04;
  static final int NBD_CMD_FLAG_REQ_ONE = 0x08;
  static final int NBD_CMD_FLAG_FAST_ZERO = 0x10;
  static final int NBD_CMD_FLAG_PAYLOAD_LEN = 0x20;

  // Structured reply flags and chunk types.
  static final int NBD_REPLY_FLAG_DONE = 0x1;
  static final int NBD_REPLY_TYPE_NONE = 0;
  static final int NBD_REPLY_TYPE_OFFSET_DATA = 1;
  static final int NBD_REPLY_TYPE_OFFSET_HOLE = 2;
  /** Spec value 5 (the reference tree's nbd.h still says 3; the spec wins). */
  static final int NBD_REPLY_TYPE_BLOCK_STATUS = 5;
  static final int NBD_REPLY_TYPE_BLOCK_STATUS_EXT = 6;
  static final int NBD_REPLY_TYPE_ERROR = 0x8001;

  // base:allocation status flags.
  static final int NBD_STATE_HOLE = 0x1;
  static final int NBD_STATE_ZERO = 0x2;

  /** The one metadata context this server offers. */
  static final String BASE_ALLOCATION = "base:allocation";
  /** Context id handed out for {@link #BASE_ALLOCATION} by SET_META_CONTEXT (any unique u32). */
  static final int BASE_ALLOCATION_ID = 1;

  // Header sizes in bytes.
  static final int OPTION_HEADER_SIZE = 16;
  static final int REQUEST_SIZE = 28;
  static final int EXTENDED_REQUEST_SIZE = 32;
  static final int SIMPLE_REPLY_SIZE = 16;
  static final int STRUCTURED_REPLY_SIZE = 20;
  static final int EXTENDED_REPLY_SIZE = 32;

  /** Spec limit for strings (export names, descriptions, messages, queries). */
  static final int MAX_STRING_LENGTH = 4096;
  /** Zero padding after the EXPORT_NAME reply unless NO_ZEROES was negotiated. */
  static final int EXPORT_NAME_PADDING = 124;
  /** Reads up to this size must be served unfragmented when the client sets DF. */
  static final int MIN_DF_READ = 64 * 1024;

  /** A message for an error reply: UTF-8, cut on a character boundary to the spec's 256 bytes. */
  static byte[] messageBytes(String message) {
    byte[] b = message.getBytes(StandardCharsets.UTF_8);
    if (b.length <= 256) {
      return b;
    }
    int end = 256;
    while (end > 0 && (b[end] & 0xC0) == 0x80) {
      end--;
    }
    return Arrays.copyOf(b, end);
  }
}
