package dev.torus.internal.buffer;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) over Netty buffers without copying. The JDK's {@link CRC32C} is an
 * intrinsic on x86 and arm64, so this is cheap enough to run on every block read and write.
 */
public final class Crc32c {
  private Crc32c() {}

  /** Checksum of the readable bytes of {@code buf}; does not move its indexes. */
  public static int of(ByteBuf buf) {
    return of(buf, buf.readerIndex(), buf.readableBytes());
  }

  /** Checksum of {@code length} bytes of {@code buf} from {@code index}. */
  public static int of(ByteBuf buf, int index, int length) {
    CRC32C crc = new CRC32C();
    if (buf.nioBufferCount() == 1) {
      crc.update(buf.nioBuffer(index, length));
    } else if (buf.nioBufferCount() > 1) {
      for (ByteBuffer b : buf.nioBuffers(index, length)) {
        crc.update(b);
      }
    } else {
      byte[] copy = new byte[length];
      buf.getBytes(index, copy);
      crc.update(copy);
    }
    return (int) crc.getValue();
  }

  /** Checksum of a byte array range. */
  public static int of(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
