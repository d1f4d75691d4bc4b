package dev.torus.transport.tcp;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.internal.buffer.Crc32c;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A plain socket speaking the peer protocol byte by byte, built by hand so that tests can send what
 * no well-behaved peer would.
 */
final class RawSocket implements AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;

  /** A frame as read off the wire. */
  record Reply(int type, int requestId, byte[] body) {
    ErrorCode code() {
      return ErrorCode.fromWire(le(body).getInt(0));
    }

    String message() {
      int length = le(body).getShort(4) & 0xffff;
      return new String(body, 6, length, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return String.format("Reply(0x%02x, id %d, %s)", type, requestId,
          type == 0xff ? code() + ": " + message() : body.length + " bytes");
    }
  }

  RawSocket(Socket socket) {
    try {
      this.socket = socket;
      socket.setSoTimeout(5000);
      this.in = new DataInputStream(socket.getInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RawSocket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 2000);
    return new RawSocket(s);
  }

  static ByteBuffer le(byte[] bytes) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static byte[] frame(int version, int type, int requestId, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(12 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'T').put((byte) 'P').put((byte) version).put((byte) type);
    b.putInt(requestId).putInt(body.length).put(body);
    return b.array();
  }

  static byte[] frame(int type, int requestId, byte[] body) {
    return frame(1, type, requestId, body);
  }

  static byte[] helloBody(int minVersion, int maxVersion, int blockSize, String node) {
    byte[] id = node.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(9 + id.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) minVersion).putShort((short) maxVersion).putInt(blockSize);
    b.put((byte) id.length).put(id);
    return b.array();
  }

  static byte[] refBody(BlockRef ref) {
    return ref.toBytes();
  }

  /** A PUT body with the given CRC-32C, right or wrong. */
  static byte[] putBody(BlockRef ref, byte[] data, int crc) {
    ByteBuffer b = ByteBuffer.allocate(BlockRef.BYTES + 4 + data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    return b.put(ref.toBytes()).putInt(crc).put(data).array();
  }

  static byte[] putBody(BlockRef ref, byte[] data) {
    return putBody(ref, data, Crc32c.of(data, 0, data.length));
  }

  /** A BLOCK body with the given CRC-32C, right or wrong. */
  static byte[] blockBody(byte[] data, int crc) {
    return ByteBuffer.allocate(4 + data.length).order(ByteOrder.LITTLE_ENDIAN).putInt(crc)
        .put(data).array();
  }

  void send(byte[] bytes) throws IOException {
    socket.getOutputStream().write(bytes);
    socket.getOutputStream().flush();
  }

  /** Opens the connection as a client would; expects HELLO_OK. */
  void hello(int blockSize) throws IOException {
    send(frame(0x01, 0, helloBody(1, 1, blockSize, "raw-client")));
    Reply reply = read();
    if (reply.type() != 0x81) {
      throw new AssertionError("handshake refused: " + reply);
    }
  }

  Reply read() throws IOException {
    byte[] header = new byte[12];
    in.readFully(header);
    ByteBuffer h = le(header);
    if (h.get(0) != 'T' || h.get(1) != 'P' || h.get(2) != 1) {
      throw new AssertionError("bad header");
    }
    byte[] body = new byte[h.getInt(8)];
    in.readFully(body);
    return new Reply(h.get(3) & 0xff, h.getInt(4), body);
  }

  /** Whether the peer closes the connection within {@code within}; frames before are skipped. */
  boolean closedWithin(Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    socket.setSoTimeout(50);
    try {
      while (System.nanoTime() < deadline) {
        try {
          if (in.read() < 0) {
            return true;
          }
        } catch (SocketTimeoutException e) {
          // still open
        } catch (EOFException e) {
          return true;
        } catch (IOException e) {
          return true; // reset by the peer
        }
      }
      return false;
    } finally {
      socket.setSoTimeout(5000);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
