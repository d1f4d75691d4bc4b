package dev.torus.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;

/**
 * A store's block allocator ({@link BlockStore#allocator()}) that can also hand out several blocks
 * in adjacent memory, so that one socket read can fill them all where it would otherwise fill a
 * buffer that is then copied into the blocks.
 */
public interface BlockRunAllocator extends ByteBufAllocator {
  /**
   * Allocates between one and {@code maxBlocks} block buffers in adjacent memory: as many as are
   * free in a row where allocation stands, never more.
   *
   * @throws IllegalArgumentException if {@code maxBlocks} is less than one
   */
  BlockRun allocateRun(int maxBlocks);

  /**
   * Blocks in adjacent memory, in address order, and a writable view of them all.
   *
   * <p>Each block is an ordinary block buffer of the allocator: a store keeps it instead of
   * copying it, and it is released on its own. {@code view} starts empty (writer index zero);
   * bytes written through it are the blocks' bytes, the first block's first. The view owns no
   * memory: it may be used only while every block is still held, and releasing it frees nothing.
   */
  record BlockRun(List<ByteBuf> blocks, ByteBuf view) {}
}
