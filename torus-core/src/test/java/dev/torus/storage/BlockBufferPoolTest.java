package dev.torus.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

final class BlockBufferPoolTest {
  private static final int BLOCK = 4096;

  @Test
  void reusesTheMemoryOfAReleasedBlock() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, () -> 8)) {
      ByteBuf first = pool.directBuffer(BLOCK, BLOCK);
      assertThat(first.writerIndex()).as("a new buffer has nothing written").isZero();
      assertThat(first.capacity()).isEqualTo(BLOCK);
      assertThat(first.maxCapacity()).isEqualTo(BLOCK);
      assertThat(first.alloc()).isSameAs(pool);
      long address = first.memoryAddress();
      first.writeZero(BLOCK).release();
      assertThat(pool.freeBuffers()).isOne();

      ByteBuf second = pool.directBuffer(BLOCK, BLOCK);
      assertThat(second.memoryAddress()).as("the released block's memory, not fresh memory")
          .isEqualTo(address);
      assertThat(pool.freeBuffers()).isZero();
      second.release();
    }
  }

  @Test
  void keepsNoMoreFreeBuffersThanTheOwnerAllows() {
    AtomicLong allowed = new AtomicLong(2);
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, allowed::get)) {
      ByteBuf[] bufs = new ByteBuf[4];
      for (int i = 0; i < bufs.length; i++) {
        bufs[i] = pool.directBuffer(BLOCK, BLOCK);
      }
      for (ByteBuf b : bufs) {
        b.release();
      }
      assertThat(pool.freeBuffers()).isEqualTo(2);

      allowed.set(0);
      pool.directBuffer(BLOCK, BLOCK).release();
      assertThat(pool.freeBuffers()).as("asked again at each release").isOne();
    }
  }

  @Test
  void servesOtherSizesFromTheDefaultAllocator() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, () -> 8)) {
      ByteBuf growable = pool.directBuffer(BLOCK);
      ByteBuf small = pool.directBuffer(100, 100);
      ByteBuf heap = pool.heapBuffer(BLOCK, BLOCK);
      assertThat(growable.alloc()).isNotSameAs(pool);
      assertThat(small.alloc()).isNotSameAs(pool);
      assertThat(heap.isDirect()).isFalse();
      growable.release();
      small.release();
      heap.release();
      assertThat(pool.freeBuffers()).isZero();
    }
  }

  @Test
  void keepsNothingAfterClose() {
    BlockBufferPool pool = new BlockBufferPool(BLOCK, () -> 8);
    ByteBuf inUse = pool.directBuffer(BLOCK, BLOCK);
    pool.directBuffer(BLOCK, BLOCK).release();
    pool.close();
    assertThat(pool.freeBuffers()).isZero();
    inUse.writeInt(7);
    assertThat(inUse.getInt(0)).as("a buffer in use stays usable after close").isEqualTo(7);
    inUse.release();
    assertThat(pool.freeBuffers()).as("and is freed, not kept, when released").isZero();
  }
}
