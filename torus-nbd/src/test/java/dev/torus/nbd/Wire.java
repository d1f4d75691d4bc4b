package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Hex fixtures and EmbeddedChannel plumbing for codec tests. */
final class Wire {
  private Wire() {}

  /** The buffer that owns {@code buf}'s memory: {@code buf} itself unless it is a view. */
  static ByteBuf root(ByteBuf buf) {
    ByteBuf root = buf;
    while (root.unwrap() != null) {
      root = root.unwrap();
    }
    return root;
  }

  /** Bytes from hex; spaces, newlines and {@code |} separators are ignored. */
  static byte[] hex(String hex) {
    return ByteBufUtil.decodeHexDump(hex.replaceAll("[\\s|]", ""));
  }

  static String hex(byte[] bytes) {
    return ByteBufUtil.hexDump(bytes);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Writes {@code bytes} inbound in chunks of {@code chunk} bytes and returns what came out. */
  static List<Object> feed(EmbeddedChannel channel, byte[] bytes, int chunk) {
    for (int i = 0; i < bytes.length; i += chunk) {
      int n = Math.min(chunk, bytes.length - i);
      channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, n));
    }
    List<Object> out = new ArrayList<>();
    for (Object o = channel.readInbound(); o != null; o = channel.readInbound()) {
      out.add(o);
    }
    return out;
  }

  /** Everything written outbound so far, concatenated; the buffers are released. */
  static byte[] outbound(EmbeddedChannel channel) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
      ByteBuf b = (ByteBuf) o;
      out.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return out.toByteArray();
  }
}
