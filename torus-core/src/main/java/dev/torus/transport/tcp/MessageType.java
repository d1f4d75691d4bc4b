package dev.torus.transport.tcp;

import org.jspecify.annotations.Nullable;

/**
 * The message types of the peer protocol. The codes are wire values (docs/peer-protocol.md):
 * requests below 0x80, responses from 0x80. Never decode by {@code ordinal()}.
 */
enum MessageType {
  /** Client's greeting: versions spoken, block size, node id. */
  HELLO(0x01),
  /** Keep-alive probe; answered with {@link #PONG}. */
  PING(0x02),
  /** Read a block: body is a ref. */
  GET(0x10),
  /** Store a block: ref, CRC-32C, data. */
  PUT(0x11),
  /** Which of these refs are stored: count, refs. */
  HAS(0x12),
  /** Remove a block: body is a ref. */
  DELETE(0x13),
  /** Durability barrier: empty body. */
  FLUSH(0x14),
  /** Server's answer to {@link #HELLO}: the chosen version, its block size and node id. */
  HELLO_OK(0x81),
  /** Answer to {@link #PING}. */
  PONG(0x82),
  /** Answer to {@link #GET}: CRC-32C, data. */
  BLOCK(0x90),
  /** Success of {@link #PUT}, {@link #DELETE} or {@link #FLUSH}: empty body. */
  DONE(0x91),
  /** Answer to {@link #HAS}: count, bitset. */
  BITSET(0x92),
  /** Failure of a request (or of the connection, with request id 0): code, message. */
  ERROR(0xFF);

  private static final MessageType[] BY_CODE = new MessageType[256];

  static {
    for (MessageType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;

  MessageType(int code) {
    this.code = code;
  }

  /** The wire value. */
  int code() {
    return code;
  }

  /** The type of a wire value, or null for a code this version does not know. */
  static @Nullable MessageType fromCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }

  @Override
  public String toString() {
    return String.format("%s(0x%02x)", name(), code);
  }
}
