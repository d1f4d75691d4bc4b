package dev.torus.internal.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Tells buffers that a store or volume may keep instead of copying. */
public final class BlockBuffers {
  private BlockBuffers() {}

  /**
   * Whether {@code buf} covers exactly one whole buffer of {@code blockSize} bytes that {@code
   * alloc} allocated: a view of a block's own memory, not part of a larger buffer.
   */
  public static boolean isWholeBlockOf(ByteBuf buf, ByteBufAllocator alloc, int blockSize) {
    ByteBuf root = buf;
    while (root.unwrap() != null) {
      root = root.unwrap();
    }
    return root.alloc() == alloc && root.capacity() == blockSize
        && buf.readableBytes() == blockSize;
  }
}
