package dev.torus.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small blocking NBD client for tests: speaks fixed-newstyle negotiation and transmission over
 * TCP or a Unix socket, byte by byte where a test needs to misbehave, and checks the server's
 * framing strictly where real clients would (a structured read must cover its request exactly
 * once, chunks must carry known types, replies must match outstanding cookies).
 *
 * <p>Replies may arrive in any order; {@link #readReply()} returns the next complete one and
 * {@link #call} waits for one cookie while keeping the others. Every read waits at most {@link
 * #TIMEOUT} and fails the test instead of hanging. Not thread-safe: one test thread drives it.
 */
public final class NbdTestClient implements AutoCloseable {
  /** Longest wait for any expected bytes. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  // Wire values, spelled out here so the client does not trust the server's own constants.
  public static final long NBDMAGIC = 0x4e42444d41474943L;
  public static final long IHAVEOPT = 0x49484156454F5054L;
  public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
  public static final int REQUEST_MAGIC = 0x25609513;
  public static final int EXTENDED_REQUEST_MAGIC = 0x21e41c71;
  public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
  public static final int EXTENDED_REPLY_MAGIC = 0x6e8a278c;

  public static final int OPT_EXPORT_NAME = 1;
  public static final int OPT_ABORT = 2;
  public static final int OPT_LIST = 3;
  public static final int OPT_STARTTLS = 5;
  public static final int OPT_INFO = 6;
  public static final int OPT_GO = 7;
  public static final int OPT_STRUCTURED_REPLY = 8;
  public static final int OPT_LIST_META_CONTEXT = 9;
  public static final int OPT_SET_META_CONTEXT = 10;
  public static final int OPT_EXTENDED_HEADERS = 11;

  public static final int REP_ACK = 1;
  public static final int REP_SERVER = 2;
  public static final int REP_INFO = 3;
  public static final int REP_META_CONTEXT = 4;
  public static final int REP_ERR_UNSUP = 0x80000001;
  public static final int REP_ERR_POLICY = 0x80000002;
  public static final int REP_ERR_INVALID = 0x80000003;
  public static final int REP_ERR_TLS_REQD = 0x80000005;
  public static final int REP_ERR_UNKNOWN = 0x80000006;
  public static final int REP_ERR_SHUTDOWN = 0x80000007;
  public static final int REP_ERR_TOO_BIG = 0x80000009;
  public static final int REP_ERR_EXT_HEADER_REQD = 0x8000000A;

  public static final int INFO_EXPORT = 0;
  public static final int INFO_NAME = 1;
  public static final int INFO_DESCRIPTION = 2;
  public static final int INFO_BLOCK_SIZE = 3;

  public static final int FLAG_HAS_FLAGS = 0x1;
  public static final int FLAG_READ_ONLY = 0x2;
  public static final int FLAG_SEND_FLUSH = 0x4;
  public static final int FLAG_SEND_FUA = 0x8;
  public static final int FLAG_SEND_TRIM = 0x20;
  public static final int FLAG_SEND_WRITE_ZEROES = 0x40;
  public static final int FLAG_SEND_DF = 0x80;
  public static final int FLAG_CAN_MULTI_CONN = 0x100;
  public static final int FLAG_SEND_CACHE = 0x400;
  public static final int FLAG_SEND_FAST_ZERO = 0x800;

  public static final int CMD_READ = 0;
  public static final int CMD_WRITE = 1;
  public static final int CMD_DISC = 2;
  public static final int CMD_FLUSH = 3;
  public static final int CMD_TRIM = 4;
  public static final int CMD_CACHE = 5;
  public static final int CMD_WRITE_ZEROES = 6;
  public static final int CMD_BLOCK_STATUS = 7;

  public static final int CMD_FLAG_FUA = 0x1;
  public static final int CMD_FLAG_NO_HOLE = 0x2;
  public static final int CMD_FLAG_DF = 0x4;
  public static final int CMD_FLAG_REQ_ONE = 0x8;
  public static final int CMD_FLAG_FAST_ZERO = 0x10;
  public static final int CMD_FLAG_PAYLOAD_LEN = 0x20;

  public static final int REPLY_FLAG_DONE = 0x1;
  public static final int TYPE_NONE = 0;
  public static final int TYPE_OFFSET_DATA = 1;
  public static final int TYPE_OFFSET_HOLE = 2;
  public static final int TYPE_BLOCK_STATUS = 5;
  public static final int TYPE_BLOCK_STATUS_EXT = 6;
  public static final int TYPE_ERROR = 0x8001;
  public static final int TYPE_ERROR_OFFSET = 0x8002;

  public static final int EPERM = 1;
  public static final int EIO = 5;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int EOVERFLOW = 75;
  public static final int ENOTSUP = 95;
  public static final int ESHUTDOWN = 108;

  /** Reply framing the client expects, as negotiated. */
  public enum Mode {
    SIMPLE,
    STRUCTURED,
    EXTENDED
  }

  /** One option reply. */
  public record OptionReply(int option, int type, byte[] data) {
    public boolean isError() {
      return type < 0;
    }

    public String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** What GO or INFO reported. */
  public record ExportDetails(
      long size, int flags, String name, String description, int minBlock, int preferredBlock,
      int maxBlock) {
    public boolean has(int flag) {
      return (flags & flag) != 0;
    }
  }

  /** A block status descriptor. */
  public record Descriptor(long length, long flags) {}

  /** One reply chunk as received (simple replies appear as one chunk of type -1). */
  public record Chunk(int flags, int type, long headerOffset, byte[] payload) {}

  /**
   * A complete reply: {@code error} 0 for success; {@code data} holds a read's bytes (holes
   * filled with zeroes); {@code descriptors} the block status of the one selected context.
   */
  public record Reply(
      long cookie, int error, String message, byte[] data, List<Chunk> chunks,
      List<Descriptor> descriptors) {
    public boolean ok() {
      return error == 0;
    }

    public long holeChunks() {
      return chunks.stream().filter(c -> c.type() == TYPE_OFFSET_HOLE).count();
    }
  }

  private final SocketChannel channel;
  private final Selector selector;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<Long, Reply> completed = new HashMap<>();
  private Mode mode = Mode.SIMPLE;
  /** Bytes read ahead by {@link #nothingArrives}, consumed first by {@link #receive}. */
  private ByteBuffer stash = ByteBuffer.allocate(0);
  private long nextCookie = 1;

  private record Pending(int type, long offset, long length, Assembly assembly) {}

  /** Collects the chunks of one structured reply. */
  private static final class Assembly {
    final List<Chunk> chunks = new ArrayList<>();
    final List<Descriptor> descriptors = new ArrayList<>();
    final BitSet covered = new BitSet();
    byte[] data = new byte[0];
    int error;
    String message = "";
  }

  private NbdTestClient(SocketChannel channel) throws IOException {
    this.channel = channel;
    channel.configureBlocking(false);
    this.selector = Selector.open();
  }

  /** Connects to a TCP ({@link InetSocketAddress}) or Unix domain socket address. */
  public static NbdTestClient connect(SocketAddress address) {
    try {
      SocketChannel ch = SocketChannel.open(address);
      if (address instanceof InetSocketAddress) {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      }
      return new NbdTestClient(ch);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Connects and negotiates like a modern client: fixed newstyle, NO_ZEROES, the given reply
   * mode, {@code base:allocation} when structured, then GO.
   */
  public static NbdTestClient open(SocketAddress address, String export, Mode mode) {
    NbdTestClient client = connect(address);
    client.greeting();
    client.clientFlags(3);
    if (mode == Mode.EXTENDED) {
      client.extendedHeaders();
    } else if (mode == Mode.STRUCTURED) {
      client.structuredReplies();
    }
    if (mode != Mode.SIMPLE) {
      client.expectAck(client.option(OPT_SET_META_CONTEXT,
          metaContextData(export, "base:allocation")));
    }
    client.go(export);
    return client;
  }

  // ---- raw bytes ----

  public void send(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    try {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (b.hasRemaining()) {
        if (channel.write(b) == 0) {
          await(SelectionKey.OP_WRITE, deadline);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public byte[] receive(int n) {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (stash.hasRemaining() && b.hasRemaining()) {
      b.put(stash.get());
    }
    try {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (b.hasRemaining()) {
        int r = channel.read(b);
        if (r < 0) {
          throw new UncheckedIOException(
              new EOFException("server closed after " + b.position() + " of " + n + " bytes"));
        }
        if (r == 0) {
          await(SelectionKey.OP_READ, deadline);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.array();
  }

  /**
   * Whether the server stays silent for {@code time}: no bytes and no close. Bytes that do arrive
   * are kept for the next read.
   */
  public boolean nothingArrives(Duration time) {
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    try {
      channel.register(selector, SelectionKey.OP_READ);
      selector.select(Math.max(1, time.toMillis()));
      selector.selectedKeys().clear();
      int r = channel.read(b);
      if (r < 0) {
        return false;
      }
      b.flip();
      ByteBuffer merged = ByteBuffer.allocate(stash.remaining() + b.remaining());
      merged.put(stash).put(b).flip();
      stash = merged;
      return !stash.hasRemaining();
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether the server closed the connection within {@code timeout}, discarding any data. */
  public boolean awaitClosed(Duration timeout) {
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        b.clear();
        int r = channel.read(b);
        if (r < 0) {
          return true;
        }
        if (r == 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          channel.register(selector, SelectionKey.OP_READ);
          selector.select(Math.max(1, left / 1_000_000));
          selector.selectedKeys().clear();
        }
      }
    } catch (IOException e) {
      return true; // reset by the server
    }
  }

  /** Closes with a TCP reset where possible: the client vanishes without a goodbye. */
  public void vanish() {
    try {
      if (channel.getRemoteAddress() instanceof InetSocketAddress) {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
      }
    } catch (IOException e) {
      // closing anyway
    }
    close();
  }

  @Override
  public void close() {
    try {
      selector.close();
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- handshake ----

  /** Reads the greeting and returns the handshake flags. */
  public int greeting() {
    ByteBuffer b = ByteBuffer.wrap(receive(18));
    check(b.getLong() == NBDMAGIC, "NBDMAGIC");
    check(b.getLong() == IHAVEOPT, "IHAVEOPT");
    return b.getShort() & 0xffff;
  }

  public void clientFlags(int flags) {
    send(ByteBuffer.allocate(4).putInt(flags).array());
  }

  public void sendOption(int option, byte[] data) {
    send(ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option)
        .putInt(data.length).put(data).array());
  }

  public OptionReply readOptionReply() {
    ByteBuffer h = ByteBuffer.wrap(receive(20));
    check(h.getLong() == OPTION_REPLY_MAGIC, "option reply magic");
    int option = h.getInt();
    int type = h.getInt();
    int length = h.getInt();
    check(length >= 0 && length <= 1 << 20, "option reply length " + length);
    return new OptionReply(option, type, receive(length));
  }

  /** Sends an option and reads replies up to and including the final one (ACK or an error). */
  public List<OptionReply> option(int option, byte[] data) {
    sendOption(option, data);
    List<OptionReply> replies = new ArrayList<>();
    while (true) {
      OptionReply r = readOptionReply();
      check(r.option() == option, "reply for option " + r.option() + ", sent " + option);
      replies.add(r);
      if (r.type() == REP_ACK || r.isError()) {
        return replies;
      }
    }
  }

  /** The last reply of a sequence must be ACK. */
  public List<OptionReply> expectAck(List<OptionReply> replies) {
    OptionReply last = replies.get(replies.size() - 1);
    check(last.type() == REP_ACK, "expected ACK, got 0x" + Integer.toHexString(last.type())
        + " " + last.text());
    return replies;
  }

  public void structuredReplies() {
    expectAck(option(OPT_STRUCTURED_REPLY, new byte[0]));
    mode = Mode.STRUCTURED;
  }

  public void extendedHeaders() {
    expectAck(option(OPT_EXTENDED_HEADERS, new byte[0]));
    mode = Mode.EXTENDED;
  }

  /** INFO or GO data: name, then information requests. */
  public static byte[] exportData(String name, int... infos) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
    b.putInt(n.length).put(n).putShort((short) infos.length);
    for (int i : infos) {
      b.putShort((short) i);
    }
    return b.array();
  }

  /** META_CONTEXT data: name, then queries. */
  public static byte[] metaContextData(String name, String... queries) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    int size = 4 + n.length + 4;
    for (String q : queries) {
      size += 4 + q.getBytes(StandardCharsets.UTF_8).length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putInt(n.length).put(n).putInt(queries.length);
    for (String q : queries) {
      byte[] qb = q.getBytes(StandardCharsets.UTF_8);
      b.putInt(qb.length).put(qb);
    }
    return b.array();
  }

  /** Parses the INFO replies of a successful INFO or GO. */
  public static ExportDetails details(List<OptionReply> replies) {
    long size = -1;
    int flags = 0;
    int min = 0;
    int preferred = 0;
    int max = 0;
    String name = "";
    String description = "";
    for (OptionReply r : replies) {
      if (r.type() != REP_INFO) {
        continue;
      }
      ByteBuffer b = ByteBuffer.wrap(r.data());
      int info = b.getShort() & 0xffff;
      switch (info) {
        case INFO_EXPORT -> {
          check(r.data().length == 12, "INFO_EXPORT length");
          size = b.getLong();
          flags = b.getShort() & 0xffff;
        }
        case INFO_NAME -> name = new String(r.data(), 2, r.data().length - 2,
            StandardCharsets.UTF_8);
        case INFO_DESCRIPTION -> description = new String(r.data(), 2, r.data().length - 2,
            StandardCharsets.UTF_8);
        case INFO_BLOCK_SIZE -> {
          check(r.data().length == 14, "INFO_BLOCK_SIZE length");
          min = b.getInt();
          preferred = b.getInt();
          max = b.getInt();
        }
        default -> { }
      }
    }
    check(size >= 0, "no INFO_EXPORT before ACK");
    return new ExportDetails(size, flags, name, description, min, preferred, max);
  }

  /** GO: returns the export details; the client is then in transmission. */
  public ExportDetails go(String name, int... infos) {
    return details(expectAck(option(OPT_GO, exportData(name, infos))));
  }

  public Mode mode() {
    return mode;
  }

  /** Sets the framing the client expects, for tests that negotiate by hand. */
  public void mode(Mode mode) {
    this.mode = mode;
  }

  // ---- transmission ----

  /** Sends a request; in extended mode, a payload sets PAYLOAD_LEN's length. */
  public void sendRequest(int flags, int type, long cookie, long offset, long length,
      byte[] payload) {
    ByteBuffer b;
    if (mode == Mode.EXTENDED) {
      b = ByteBuffer.allocate(32 + payload.length).putInt(EXTENDED_REQUEST_MAGIC)
          .putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
          .putLong(length);
    } else {
      b = ByteBuffer.allocate(28 + payload.length).putInt(REQUEST_MAGIC)
          .putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
          .putInt((int) length);
    }
    b.put(payload);
    send(b.array());
  }

  /** Sends a request with a fresh cookie and records it as outstanding; returns the cookie. */
  public long submit(int flags, int type, long offset, long length, byte[] payload) {
    long cookie = nextCookie++ * 0x1_0000_0001L; // use all 64 bits: the server must echo them
    pending.put(cookie, new Pending(type, offset, length, new Assembly()));
    int f = flags;
    long len = length;
    if (mode == Mode.EXTENDED && payload.length > 0) {
      f |= CMD_FLAG_PAYLOAD_LEN;
      len = payload.length;
    }
    sendRequest(f, type, cookie, offset, len, payload);
    return cookie;
  }

  /** Sends a request and waits for its reply, keeping replies to other cookies. */
  public Reply call(int flags, int type, long offset, long length, byte[] payload) {
    return await(submit(flags, type, offset, length, payload));
  }

  /** Waits for the reply to one cookie. */
  public Reply await(long cookie) {
    while (!completed.containsKey(cookie)) {
      Reply r = receiveReply();
      completed.put(r.cookie(), r);
    }
    return completed.remove(cookie);
  }

  /**
   * The next reply to one of {@code cookies}, for requests sent raw with {@link #sendRequest};
   * they are expected to carry no data.
   */
  public Reply readReplyFor(long... cookies) {
    for (long cookie : cookies) {
      pending.putIfAbsent(cookie, new Pending(-1, 0, 0, new Assembly()));
    }
    Reply r = readReply();
    check(java.util.Arrays.stream(cookies).anyMatch(k -> k == r.cookie()),
        "reply to unexpected cookie " + r.cookie());
    return r;
  }

  /** The next complete reply, in the order the server finished them. */
  public Reply readReply() {
    if (!completed.isEmpty()) {
      Long first = completed.keySet().iterator().next();
      return completed.remove(first);
    }
    return receiveReply();
  }

  public byte[] read(long offset, int length) {
    Reply r = call(0, CMD_READ, offset, length, new byte[0]);
    check(r.ok(), "read failed with " + r.error() + ": " + r.message());
    return r.data();
  }

  public void write(long offset, byte[] data) {
    Reply r = call(0, CMD_WRITE, offset, data.length, data);
    check(r.ok(), "write failed with " + r.error() + ": " + r.message());
  }

  /** Sends DISC; the server answers nothing and closes. */
  public void disconnect() {
    sendRequest(0, CMD_DISC, nextCookie++, 0, 0, new byte[0]);
  }

  private Reply receiveReply() {
    while (true) {
      ByteBuffer m = ByteBuffer.wrap(receive(4));
      int magic = m.getInt();
      Reply r;
      if (magic == SIMPLE_REPLY_MAGIC) {
        check(mode != Mode.EXTENDED, "simple reply after extended headers");
        r = simpleReply();
      } else if (magic == STRUCTURED_REPLY_MAGIC) {
        check(mode == Mode.STRUCTURED, "structured reply in " + mode + " mode");
        r = chunk(false);
      } else if (magic == EXTENDED_REPLY_MAGIC) {
        check(mode == Mode.EXTENDED, "extended reply in " + mode + " mode");
        r = chunk(true);
      } else {
        throw new AssertionError("bad reply magic 0x" + Integer.toHexString(magic));
      }
      if (r != null) {
        return r;
      }
    }
  }

  private Reply simpleReply() {
    ByteBuffer b = ByteBuffer.wrap(receive(12));
    int error = b.getInt();
    long cookie = b.getLong();
    Pending p = pending.remove(cookie);
    check(p != null, "reply to unknown cookie 0x" + Long.toHexString(cookie));
    check(!(mode != Mode.SIMPLE && p.type() == CMD_READ),
        "simple reply to a read after structured replies were negotiated");
    byte[] data = new byte[0];
    if (p.type() == CMD_READ && error == 0) {
      data = receive((int) p.length());
    }
    return new Reply(cookie, error, "", data, List.of(new Chunk(0, -1, 0, data)), List.of());
  }

  /** Reads one chunk; returns the reply if the chunk was the last. */
  private Reply chunk(boolean extended) {
    ByteBuffer h = ByteBuffer.wrap(receive(extended ? 28 : 16));
    int flags = h.getShort() & 0xffff;
    int type = h.getShort() & 0xffff;
    long cookie = h.getLong();
    long headerOffset = extended ? h.getLong() : 0;
    long length = extended ? h.getLong() : h.getInt() & 0xffffffffL;
    Pending p = pending.get(cookie);
    check(p != null, "chunk for unknown cookie 0x" + Long.toHexString(cookie));
    if (extended) {
      check(headerOffset == p.offset(), "extended reply must echo the request offset");
    }
    check(length <= (1 << 26), "chunk length " + length);
    byte[] payload = receive((int) length);
    Assembly a = p.assembly();
    a.chunks.add(new Chunk(flags, type, headerOffset, payload));
    ByteBuffer b = ByteBuffer.wrap(payload);
    switch (type) {
      case TYPE_NONE -> check(length == 0 && (flags & REPLY_FLAG_DONE) != 0, "NONE chunk");
      case TYPE_OFFSET_DATA, TYPE_OFFSET_HOLE -> content(p, type, b, length);
      case TYPE_BLOCK_STATUS -> {
        check(length >= 12 && (length - 4) % 8 == 0, "BLOCK_STATUS length " + length);
        b.getInt();
        while (b.hasRemaining()) {
          long len = b.getInt() & 0xffffffffL;
          check(len > 0, "zero-length descriptor");
          a.descriptors.add(new Descriptor(len, b.getInt() & 0xffffffffL));
        }
      }
      case TYPE_BLOCK_STATUS_EXT -> {
        check(extended, "BLOCK_STATUS_EXT without extended headers");
        b.getInt();
        int count = b.getInt();
        check(length == 8 + 16L * count, "BLOCK_STATUS_EXT length");
        for (int i = 0; i < count; i++) {
          a.descriptors.add(new Descriptor(b.getLong(), b.getLong()));
        }
      }
      default -> {
        check((type & 0x8000) != 0, "unknown non-error chunk type " + type);
        a.error = b.getInt();
        check(a.error != 0, "error chunk with error 0");
        int messageLength = b.getShort() & 0xffff;
        byte[] message = new byte[messageLength];
        b.get(message);
        a.message = new String(message, StandardCharsets.UTF_8);
      }
    }
    if ((flags & REPLY_FLAG_DONE) == 0) {
      return null;
    }
    pending.remove(cookie);
    if (p.type() == CMD_READ && a.error == 0) {
      check(a.covered.cardinality() == p.length(),
          "read chunks cover " + a.covered.cardinality() + " of " + p.length() + " bytes");
    }
    return new Reply(cookie, a.error, a.message, a.data, a.chunks, a.descriptors);
  }

  private static void content(Pending p, int type, ByteBuffer b, long length) {
    check(p.type() == CMD_READ, "content chunk for a non-read");
    Assembly a = p.assembly();
    if (a.data.length == 0) {
      a.data = new byte[(int) p.length()];
    }
    long offset = b.getLong();
    int n;
    if (type == TYPE_OFFSET_HOLE) {
      check(length == 12, "OFFSET_HOLE length");
      n = b.getInt();
      check(n > 0, "empty hole");
    } else {
      check(length >= 9, "OFFSET_DATA length");
      n = (int) (length - 8);
    }
    long rel = offset - p.offset();
    check(rel >= 0 && rel + n <= p.length(), "chunk outside the request");
    check(a.covered.get((int) rel, (int) rel + n).isEmpty(), "overlapping chunks");
    a.covered.set((int) rel, (int) rel + n);
    if (type == TYPE_OFFSET_DATA) {
      b.get(a.data, (int) rel, n);
    }
  }

  private void await(int op, long deadline) throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new AssertionError("no progress from the server within " + TIMEOUT);
    }
    channel.register(selector, op);
    selector.select(Math.max(1, left / 1_000_000));
    selector.selectedKeys().clear();
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("protocol violation: " + what);
    }
  }
}
