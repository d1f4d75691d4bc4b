package dev.torus.internal.buffer;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) over Netty buffers without copying. The JDK's {@link CRC32C} is an
 * intrinsic on x86 and arm64, so this is cheap enough to run on every block read and write.
 */
public final class Crc32c {
  /** The CRC-32C polynomial in the bit-reflected order the checksum uses (x^0 is the top bit). */
  private static final int POLYNOMIAL = 0x82F63B78;

  /** X_TO_THE_POWER_OF_TWO[k] is x^(2^k) modulo the polynomial. */
  private static final int[] X_TO_THE_POWER_OF_TWO = new int[32];

  static {
    X_TO_THE_POWER_OF_TWO[0] = 1 << 30; // x^1
    for (int k = 1; k < X_TO_THE_POWER_OF_TWO.length; k++) {
      int previous = X_TO_THE_POWER_OF_TWO[k - 1];
      X_TO_THE_POWER_OF_TWO[k] = multiply(previous, previous);
    }
  }

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

  /**
   * The checksum of bytes whose checksum was {@code crc} after one range of them changed, from
   * bytes with checksum {@code oldRangeCrc} to bytes of the same length with checksum {@code
   * newRangeCrc}, and {@code bytesAfter} bytes follow the range. Costs a few hundred shifts
   * instead of reading the unchanged bytes again.
   *
   * <p>Why it holds: a CRC is linear over GF(2) for messages of equal length, so the checksums of
   * the old and the new bytes differ by the raw CRC (no initial or final inversion) of their XOR.
   * That XOR is zero outside the range; leading zeros leave a raw CRC unchanged, and each trailing
   * zero byte multiplies it by x^8 modulo the polynomial.
   */
  public static int afterReplacing(int crc, int oldRangeCrc, int newRangeCrc, long bytesAfter) {
    if (bytesAfter < 0) {
      throw new IllegalArgumentException("bytes after the range: " + bytesAfter);
    }
    return crc ^ multiply(xToThe8Times(bytesAfter), oldRangeCrc ^ newRangeCrc);
  }

  /** x^(8 * bytes) modulo the polynomial, from the binary digits of the exponent. */
  private static int xToThe8Times(long bytes) {
    int product = 1 << 31; // x^0
    int k = 3; // 8 = 2^3
    for (long n = bytes; n != 0; n >>>= 1, k++) {
      if ((n & 1) != 0) {
        product = multiply(X_TO_THE_POWER_OF_TWO[k & 31], product);
      }
    }
    return product;
  }

  /** a * b modulo the polynomial, both bit-reflected. */
  private static int multiply(int a, int b) {
    int product = 0;
    for (int bit = 1 << 31; bit != 0; bit >>>= 1) {
      if ((a & bit) != 0) {
        product ^= b;
        if ((a & (bit - 1)) == 0) {
          break;
        }
      }
      b = (b & 1) != 0 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
    }
    return product;
  }

  /** Checksum of a byte array range. */
  public static int of(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
