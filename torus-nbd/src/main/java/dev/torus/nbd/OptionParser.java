package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the data of handshake options into values. Every length inside the data is checked
 * against what is left, and strings against the spec's rules (UTF-8, no NUL, at most 4096 bytes);
 * a violation is an {@link OptionException} carrying {@code NBD_REP_ERR_INVALID}.
 */
final class OptionParser {
  private OptionParser() {}

  /** An option refused with an error reply; the handshake goes on. */
  static final class OptionException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int replyType;

    OptionException(int replyType, String message) {
      super(message, null, false, false);
      this.replyType = replyType;
    }

    /** The {@code NBD_REP_ERR_*} to send. */
    int replyType() {
      return replyType;
    }
  }

  /** The data of INFO and GO: an export name and the information items the client asks for. */
  record ExportRequest(String name, List<Integer> infos) {}

  /** The data of LIST_META_CONTEXT and SET_META_CONTEXT: an export name and queries. */
  record MetaContextRequest(String name, List<String> queries) {}

  /** INFO/GO: name-length u32, name, count u16, count x info-type u16; nothing after. */
  static ExportRequest exportRequest(ByteBuf data) throws OptionException {
    String name = string(data, "export name");
    if (data.readableBytes() < 2) {
      throw invalid("missing information request count");
    }
    int count = data.readUnsignedShort();
    if (data.readableBytes() != 2 * count) {
      throw invalid(
          count + " information requests need " + 2 * count + " bytes, got "
              + data.readableBytes());
    }
    List<Integer> infos = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      infos.add(data.readUnsignedShort());
    }
    return new ExportRequest(name, infos);
  }

  /** META_CONTEXT options: name-length u32, name, count u32, count x (length u32, query). */
  static MetaContextRequest metaContextRequest(ByteBuf data) throws OptionException {
    String name = string(data, "export name");
    if (data.readableBytes() < 4) {
      throw invalid("missing query count");
    }
    long count = data.readUnsignedInt();
    // Each query takes at least its 4-byte length: a larger count cannot fit in the data.
    if (count > data.readableBytes() / 4) {
      throw invalid(count + " queries cannot fit in " + data.readableBytes() + " bytes");
    }
    List<String> queries = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      queries.add(string(data, "query"));
    }
    if (data.isReadable()) {
      throw invalid(data.readableBytes() + " unexpected bytes after the queries");
    }
    return new MetaContextRequest(name, queries);
  }

  /** The whole data as a string (EXPORT_NAME carries the name without a length prefix). */
  static String wholeString(ByteBuf data, String what) throws OptionException {
    return utf8(data, data.readableBytes(), what);
  }

  private static String string(ByteBuf data, String what) throws OptionException {
    if (data.readableBytes() < 4) {
      throw invalid("missing " + what + " length");
    }
    long length = data.readUnsignedInt();
    if (length > data.readableBytes()) {
      throw invalid(what + " length " + length + " exceeds the option data");
    }
    return utf8(data, (int) length, what);
  }

  private static String utf8(ByteBuf data, int length, String what) throws OptionException {
    if (length > NbdProtocol.MAX_STRING_LENGTH) {
      throw invalid(what + " longer than " + NbdProtocol.MAX_STRING_LENGTH + " bytes");
    }
    ByteBuffer bytes = data.nioBuffer(data.readerIndex(), length);
    data.skipBytes(length);
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(bytes)
              .toString();
    } catch (CharacterCodingException e) {
      throw invalid(what + " is not valid UTF-8");
    }
    if (s.indexOf('\0') >= 0) {
      throw invalid(what + " contains NUL");
    }
    return s;
  }

  private static OptionException invalid(String message) {
    return new OptionException(NbdProtocol.NBD_REP_ERR_INVALID, message);
  }
}
