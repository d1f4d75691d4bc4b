package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Buffer;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Block contents for store tests: reproducible from a seed, and self-identifying when tagged. */
public final class Blocks {
  private Blocks() {}

  /** {@code size} pseudo-random bytes determined by {@code seed}. */
  public static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    SplittableRandom random = new SplittableRandom(seed * 0x9E37_79B9_7F4A_7C15L + size);
    for (int i = 0; i < size; i += 8) {
      long v = random.nextLong();
      for (int j = 0; j < 8 && i + j < size; j++) {
        bytes[i + j] = (byte) (v >>> (8 * j));
      }
    }
    return bytes;
  }

  /** {@link #random} in a new heap buffer, for handing to a store. */
  public static ByteBuf buf(int size, long seed) {
    return Unpooled.wrappedBuffer(random(size, seed));
  }

  /**
   * A buffer that names its own content: the first 4 bytes hold {@code tag} and the rest follows
   * from it, so that {@link #isTagged} recognises any mix of two such blocks.
   */
  public static ByteBuf tagged(int size, int tag) {
    return Unpooled.wrappedBuffer(taggedBytes(size, tag));
  }

  /** Whether {@code bytes} is exactly one {@link #tagged} block. */
  public static boolean isTagged(byte[] bytes) {
    return bytes.length >= 4 && Arrays.equals(bytes, taggedBytes(bytes.length, seedOf(bytes)));
  }

  /** The tag of a {@link #tagged} block. */
  public static int seedOf(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getInt(0);
  }

  /** Reads a block and releases the buffer; failures are rethrown as by {@link Futures#join}. */
  public static byte[] read(BlockStore store, BlockRef ref) {
    return drain(Futures.join(store.getBlock(ref)));
  }

  /** The bytes of a buffer the caller owns, releasing it. */
  public static byte[] drain(ByteBuf buf) {
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  /**
   * The address of the memory at index 0 of the direct buffer {@code buf}, to check which memory
   * buffers share. Unlike {@link ByteBuf#memoryAddress()}, it works for buffers that Netty made
   * without {@code sun.misc.Unsafe}, as the block pool's are.
   */
  public static long address(ByteBuf buf) {
    Epoll.ensureAvailability(); // loads the native library that Buffer's JNI method is in
    return Buffer.memoryAddress(buf.nioBuffer(0, buf.capacity()));
  }

  private static byte[] taggedBytes(int size, int tag) {
    byte[] bytes = random(size, 0x7A6_0000_0000L + tag);
    ByteBuffer.wrap(bytes).putInt(0, tag);
    return bytes;
  }
}
