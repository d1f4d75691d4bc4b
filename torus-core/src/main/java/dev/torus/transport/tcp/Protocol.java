package dev.torus.transport.tcp;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.internal.buffer.Crc32c;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The peer protocol's wire format: constants, frame encoders and body parsers. Specified in
 * docs/peer-protocol.md; a change here is a change there.
 *
 * <p>Wire format: every integer little-endian, as in {@link BlockRef}'s wire form. A frame is a
 * 12-byte header (magic {@code 'T' 'P'}, version, type, request id u32, body length u32) and a
 * body. Encoders return one buffer per frame (a composite around a block's data, never a copy), so
 * a frame written from any thread is never interleaved with another; they take ownership of the
 * data passed in. Parsers read a frame's body without taking ownership and fail with {@code
 * PROTOCOL} on a malformed body.
 */
final class Protocol {
  static final int MAGIC_0 = 'T';
  static final int MAGIC_1 = 'P';
  static final int MIN_VERSION = 1;
  static final int MAX_VERSION = 1;
  static final int HEADER_BYTES = 12;
  static final int ID_OFFSET = 4;
  static final int LENGTH_OFFSET = 8;
  /** Request id of HELLO, HELLO_OK and connection-level errors. */
  static final int CONNECTION_ID = 0;
  /** Refs per HAS frame; clients split longer lists. Fits {@code MIN_FRAME_SIZE}. */
  static final int MAX_REFS_PER_HAS = 4096;
  /** A PUT body's bytes before the block data: ref and CRC-32C. */
  static final int PUT_PREFIX = BlockRef.BYTES + 4;
  static final int MAX_PEER_ID_BYTES = 255;
  /** Error messages are cut to this many chars, so an error frame stays small. */
  static final int MAX_MESSAGE_CHARS = 1000;

  private Protocol() {}

  /** A HELLO or HELLO_OK body. HELLO_OK carries the chosen version as both min and max. */
  record Hello(int minVersion, int maxVersion, int blockSize, PeerId peer) {}

  // ---- encoders -------------------------------------------------------------------------------

  /** A buffer with the header of a frame of a {@code bodyBytes}-byte body, and room for it. */
  private static ByteBuf header(ByteBufAllocator alloc, MessageType type, int requestId,
      int bodyBytes, int capacity) {
    ByteBuf buf = alloc.buffer(capacity);
    buf.writeByte(MAGIC_0).writeByte(MAGIC_1).writeByte(MAX_VERSION).writeByte(type.code());
    buf.writeIntLE(requestId).writeIntLE(bodyBytes);
    return buf;
  }

  /** Sets the request id of an encoded frame; clients number requests only when they send them. */
  static void setRequestId(ByteBuf frame, int requestId) {
    frame.setIntLE(frame.readerIndex() + ID_OFFSET, requestId);
  }

  static ByteBuf hello(ByteBufAllocator alloc, MessageType type, Hello hello) {
    byte[] id = hello.peer().uuid().getBytes(StandardCharsets.UTF_8);
    if (id.length > MAX_PEER_ID_BYTES) {
      throw new IllegalArgumentException("peer id longer than " + MAX_PEER_ID_BYTES + " bytes");
    }
    int body = 9 + id.length;
    ByteBuf buf = header(alloc, type, CONNECTION_ID, body, HEADER_BYTES + body);
    buf.writeShortLE(hello.minVersion()).writeShortLE(hello.maxVersion());
    buf.writeIntLE(hello.blockSize()).writeByte(id.length).writeBytes(id);
    return buf;
  }

  /** A frame with an empty body: PING, PONG, DONE, FLUSH. */
  static ByteBuf empty(ByteBufAllocator alloc, MessageType type, int requestId) {
    return header(alloc, type, requestId, 0, HEADER_BYTES);
  }

  /** A frame whose body is one ref: GET, DELETE. */
  static ByteBuf ref(ByteBufAllocator alloc, MessageType type, int requestId, BlockRef ref) {
    ByteBuf buf = header(alloc, type, requestId, BlockRef.BYTES, HEADER_BYTES + BlockRef.BYTES);
    writeRef(buf, ref);
    return buf;
  }

  /** A PUT frame; takes ownership of {@code data} and checksums it. */
  static ByteBuf put(ByteBufAllocator alloc, int requestId, BlockRef ref, ByteBuf data) {
    return withData(alloc, MessageType.PUT, requestId, ref, data);
  }

  /** A BLOCK frame; takes ownership of {@code data} and checksums it. */
  static ByteBuf block(ByteBufAllocator alloc, int requestId, ByteBuf data) {
    return withData(alloc, MessageType.BLOCK, requestId, null, data);
  }

  private static ByteBuf withData(ByteBufAllocator alloc, MessageType type, int requestId,
      @Nullable BlockRef ref, ByteBuf data) {
    try {
      int prefix = (ref == null ? 0 : BlockRef.BYTES) + 4;
      ByteBuf head = header(alloc, type, requestId, prefix + data.readableBytes(),
          HEADER_BYTES + prefix);
      if (ref != null) {
        writeRef(head, ref);
      }
      head.writeIntLE(Crc32c.of(data));
      return alloc.compositeBuffer(2).addComponents(true, head, data);
    } catch (RuntimeException e) {
      data.release();
      throw e;
    }
  }

  static ByteBuf has(ByteBufAllocator alloc, int requestId, List<BlockRef> refs) {
    int body = 4 + refs.size() * BlockRef.BYTES;
    ByteBuf buf = header(alloc, MessageType.HAS, requestId, body, HEADER_BYTES + body);
    buf.writeIntLE(refs.size());
    refs.forEach(ref -> writeRef(buf, ref));
    return buf;
  }

  /** A BITSET frame; bit i of the bitset is bit {@code i % 8} of byte {@code i / 8}. */
  static ByteBuf bitset(ByteBufAllocator alloc, int requestId, BitSet bits, int count) {
    byte[] packed = new byte[(count + 7) / 8];
    byte[] set = bits.get(0, count).toByteArray();
    System.arraycopy(set, 0, packed, 0, set.length);
    ByteBuf buf = header(alloc, MessageType.BITSET, requestId, 4 + packed.length,
        HEADER_BYTES + 4 + packed.length);
    return buf.writeIntLE(count).writeBytes(packed);
  }

  static ByteBuf error(ByteBufAllocator alloc, int requestId, ErrorCode code, String message) {
    String cut = message.length() > MAX_MESSAGE_CHARS ? message.substring(0, MAX_MESSAGE_CHARS)
        : message;
    byte[] text = cut.getBytes(StandardCharsets.UTF_8);
    int body = 6 + text.length;
    ByteBuf buf = header(alloc, MessageType.ERROR, requestId, body, HEADER_BYTES + body);
    return buf.writeIntLE(code.wire()).writeShortLE(text.length).writeBytes(text);
  }

  private static void writeRef(ByteBuf buf, BlockRef ref) {
    buf.writeLongLE(ref.volumeWord()).writeLongLE(ref.inode()).writeLongLE(ref.index());
  }

  // ---- parsers --------------------------------------------------------------------------------

  static Hello readHello(ByteBuf body) {
    requireAtLeast(body, 9, "HELLO");
    int idBytes = body.getUnsignedByte(body.readerIndex() + 8);
    requireExactly(body, 9 + idBytes, "HELLO");
    int at = body.readerIndex();
    String id = body.toString(at + 9, idBytes, StandardCharsets.UTF_8);
    if (id.isBlank()) {
      throw malformed("HELLO carries a blank node id");
    }
    return new Hello(body.getUnsignedShortLE(at), body.getUnsignedShortLE(at + 2),
        body.getIntLE(at + 4), new PeerId(id));
  }

  /** The ref of a GET or DELETE body. */
  static BlockRef readRefBody(ByteBuf body, MessageType type) {
    requireExactly(body, BlockRef.BYTES, type.name());
    return readRef(body, body.readerIndex());
  }

  /** The ref of a PUT body after checking its length and its checksum ({@code CORRUPTED}). */
  static BlockRef readPut(ByteBuf body, int blockSize) {
    requireExactly(body, PUT_PREFIX + blockSize, "PUT");
    BlockRef ref = readRef(body, body.readerIndex());
    checkCrc(body, BlockRef.BYTES, "block " + ref);
    return ref;
  }

  /** The data of a PUT body, as a slice (not retained). */
  static ByteBuf putData(ByteBuf body) {
    return body.slice(body.readerIndex() + PUT_PREFIX, body.readableBytes() - PUT_PREFIX);
  }

  /** The data of a BLOCK body, as a retained slice, after checking its length and checksum. */
  static ByteBuf readBlock(ByteBuf body, int blockSize, String what) {
    requireExactly(body, 4 + blockSize, "BLOCK");
    checkCrc(body, 0, what);
    return body.retainedSlice(body.readerIndex() + 4, blockSize);
  }

  /** Checks that a FLUSH (or other body-less request) has no body. */
  static void readEmpty(ByteBuf body, MessageType type) {
    requireExactly(body, 0, type.name());
  }

  static List<BlockRef> readHas(ByteBuf body) {
    requireAtLeast(body, 4, "HAS");
    long count = body.getUnsignedIntLE(body.readerIndex());
    if (count > MAX_REFS_PER_HAS) {
      throw malformed("HAS of " + count + " refs; at most " + MAX_REFS_PER_HAS + " per frame");
    }
    requireExactly(body, 4 + (int) count * BlockRef.BYTES, "HAS");
    List<BlockRef> refs = new ArrayList<>((int) count);
    for (int i = 0; i < count; i++) {
      refs.add(readRef(body, body.readerIndex() + 4 + i * BlockRef.BYTES));
    }
    return refs;
  }

  static BitSet readBitset(ByteBuf body, int expectedCount) {
    requireAtLeast(body, 4, "BITSET");
    long count = body.getUnsignedIntLE(body.readerIndex());
    if (count != expectedCount) {
      throw malformed("BITSET of " + count + " bits answers a HAS of " + expectedCount + " refs");
    }
    requireExactly(body, 4 + (expectedCount + 7) / 8, "BITSET");
    byte[] packed = new byte[(expectedCount + 7) / 8];
    body.getBytes(body.readerIndex() + 4, packed);
    return BitSet.valueOf(packed).get(0, expectedCount);
  }

  /** The failure an ERROR body carries; unknown codes become {@code INTERNAL}. */
  static TorusException readError(ByteBuf body) {
    requireAtLeast(body, 6, "ERROR");
    int at = body.readerIndex();
    int length = body.getUnsignedShortLE(at + 4);
    requireExactly(body, 6 + length, "ERROR");
    return new TorusException(ErrorCode.fromWire(body.getIntLE(at)),
        body.toString(at + 6, length, StandardCharsets.UTF_8));
  }

  private static BlockRef readRef(ByteBuf buf, int at) {
    try {
      return BlockRef.fromParts(buf.getLongLE(at), buf.getLongLE(at + 8), buf.getLongLE(at + 16));
    } catch (IllegalArgumentException e) {
      throw malformed("invalid block ref " + ByteBufUtil.hexDump(buf, at, BlockRef.BYTES) + ": "
          + e.getMessage());
    }
  }

  /** Checks the CRC-32C at {@code offset} of the body against the data that follows it. */
  private static void checkCrc(ByteBuf body, int offset, String what) {
    int at = body.readerIndex() + offset;
    int sent = body.getIntLE(at);
    int actual = Crc32c.of(body, at + 4, body.writerIndex() - at - 4);
    if (sent != actual) {
      throw new TorusException(ErrorCode.CORRUPTED, String.format(
          "%s failed its CRC-32C check in transit (sent %08x, received data has %08x)", what,
          sent, actual));
    }
  }

  private static void requireExactly(ByteBuf body, int bytes, String what) {
    if (body.readableBytes() != bytes) {
      throw malformed(what + " body of " + body.readableBytes() + " bytes, expected " + bytes);
    }
  }

  private static void requireAtLeast(ByteBuf body, int bytes, String what) {
    if (body.readableBytes() < bytes) {
      throw malformed(what + " body of " + body.readableBytes() + " bytes, expected at least "
          + bytes);
    }
  }

  private static TorusException malformed(String message) {
    return new TorusException(ErrorCode.PROTOCOL, "malformed frame: " + message);
  }
}
