package dev.torus.storage;

import static dev.torus.storage.Blocks.address;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.storage.BlockRunAllocator.BlockRun;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

final class BlockBufferPoolTest {
  private static final int BLOCK = 4096;

  @Test
  void reusesTheMemoryOfAReleasedBlock() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 2, () -> 8)) {
      ByteBuf first = pool.directBuffer(BLOCK, BLOCK);
      assertThat(first.writerIndex()).as("a new buffer has nothing written").isZero();
      assertThat(first.capacity()).isEqualTo(BLOCK);
      assertThat(first.maxCapacity()).isEqualTo(BLOCK);
      assertThat(first.alloc()).isSameAs(pool);
      ByteBuf second = pool.directBuffer(BLOCK, BLOCK);
      assertThat(address(second)).as("the next block of the chunk")
          .isEqualTo(address(first) + BLOCK);
      long firstAddress = address(first);
      first.writeZero(BLOCK).release();
      assertThat(pool.freeBuffers()).isOne();

      ByteBuf third = pool.directBuffer(BLOCK, BLOCK);
      assertThat(address(third)).as("the released block's memory, not fresh memory")
          .isEqualTo(firstAddress);
      assertThat(pool.freeBuffers()).isZero();
      assertThat(pool.mappedChunks()).isOne();
      second.release();
      third.release();
    }
  }

  @Test
  void aRunIsBlocksInAdjacentMemoryThatItsViewWritesInto() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 8, () -> 8)) {
      BlockRun run = pool.allocateRun(5);
      List<ByteBuf> blocks = run.blocks();
      assertThat(blocks).hasSize(5);
      for (int i = 0; i < blocks.size(); i++) {
        ByteBuf b = blocks.get(i);
        assertThat(b.alloc()).as("an ordinary block of the pool").isSameAs(pool);
        assertThat(b.capacity()).isEqualTo(BLOCK);
        assertThat(b.writerIndex()).isZero();
        assertThat(address(b)).isEqualTo(address(blocks.get(0)) + (long) i * BLOCK);
      }
      ByteBuf view = run.view();
      assertThat(view.capacity()).isEqualTo(5 * BLOCK);
      assertThat(view.writerIndex()).as("the view starts empty").isZero();
      for (int i = 0; i < 5 * BLOCK; i += 4) {
        view.writeInt(i);
      }
      view.release();
      for (int i = 0; i < 5 * BLOCK; i += 4) {
        assertThat(blocks.get(i / BLOCK).getInt(i % BLOCK)).as("byte %d", i).isEqualTo(i);
      }
      assertThat(pool.freeBuffers()).as("releasing the view frees nothing").isEqualTo(3);

      blocks.get(1).release();
      assertThat(pool.freeBuffers()).as("each block is released on its own").isEqualTo(4);
      blocks.get(0).release();
      blocks.subList(2, 5).forEach(ByteBuf::release);
      assertThat(pool.freeBuffers()).isEqualTo(8);
    }
  }

  @Test
  void aRunEndsAtABlockInUseAndAtTheEndOfItsChunk() {
    AtomicLong allowed = new AtomicLong(4); // too few for a spare chunk: runs are cut short
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 4, allowed::get)) {
      BlockRun whole = pool.allocateRun(4);
      whole.view().release();
      List<ByteBuf> all = whole.blocks();
      long base = address(all.get(0));
      all.get(0).release();
      all.get(1).release();
      all.get(3).release();

      BlockRun upToTheBlockInUse = pool.allocateRun(4);
      assertThat(upToTheBlockInUse.blocks()).hasSize(2);
      assertThat(address(upToTheBlockInUse.blocks().get(0)))
          .as("found after the last block handed out, wrapping around").isEqualTo(base);
      BlockRun upToTheChunksEnd = pool.allocateRun(4);
      assertThat(upToTheChunksEnd.blocks()).hasSize(1);
      assertThat(address(upToTheChunksEnd.blocks().get(0))).isEqualTo(base + 3 * BLOCK);
      assertThat(pool.mappedChunks()).isOne();

      BlockRun fresh = pool.allocateRun(8);
      assertThat(fresh.blocks()).as("no free block: a new chunk, no longer than one").hasSize(4);
      assertThat(pool.mappedChunks()).isEqualTo(2);

      allowed.set(8);
      for (BlockRun r : List.of(upToTheBlockInUse, upToTheChunksEnd, fresh)) {
        r.view().release();
        r.blocks().forEach(ByteBuf::release);
      }
      all.get(2).release();
      assertThat(pool.freeBuffers()).isEqualTo(8);
    }
  }

  @Test
  void aRunThatNextFitCutsShortComesFromAWhollyFreeChunk() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 4, () -> 64)) {
      BlockRun first = pool.allocateRun(4);
      BlockRun second = pool.allocateRun(4);
      long freedInFirst = address(first.blocks().get(1));
      long secondStart = address(second.blocks().get(0));
      first.blocks().get(1).release();
      second.blocks().forEach(ByteBuf::release);

      BlockRun run = pool.allocateRun(4);
      assertThat(run.blocks()).as("the whole free chunk, not the single block found first")
          .hasSize(4);
      assertThat(address(run.blocks().get(0))).isEqualTo(secondStart);
      assertThat(pool.mappedChunks()).isEqualTo(2);
      BlockRun single = pool.allocateRun(1);
      assertThat(address(single.blocks().get(0))).as("one block is found next fit")
          .isEqualTo(freedInFirst);

      for (BlockRun r : List.of(first, second, run, single)) {
        r.view().release();
      }
      List.of(first.blocks().get(0), first.blocks().get(2), first.blocks().get(3))
          .forEach(ByteBuf::release);
      run.blocks().forEach(ByteBuf::release);
      single.blocks().forEach(ByteBuf::release);
      assertThat(pool.freeBuffers()).isEqualTo(8);
    }
  }

  @Test
  void mapsASpareChunkForARunWhileAtMostAQuarterOfTheBlocksAreFree() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 4, () -> 64)) {
      List<ByteBuf> held = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        BlockRun run = pool.allocateRun(4);
        run.view().release();
        held.addAll(run.blocks());
      }
      held.get(1).release();

      BlockRun spare = pool.allocateRun(4);
      assertThat(spare.blocks()).as("one block free of sixteen: a new chunk").hasSize(4);
      assertThat(pool.mappedChunks()).isEqualTo(5);

      List<Integer> scatteredFree = List.of(4, 6, 8, 10, 12, 14); // blocks 0 and 2 of chunks 1-3
      scatteredFree.forEach(i -> held.get(i).release());
      assertThat(pool.freeBuffers()).as("seven of twenty, more than a quarter").isEqualTo(7);
      BlockRun scattered = pool.allocateRun(4);
      assertThat(scattered.blocks()).as("the short run found next fit").hasSize(1);
      assertThat(pool.mappedChunks()).isEqualTo(5);

      for (int i = 0; i < held.size(); i++) {
        if (i != 1 && !scatteredFree.contains(i)) {
          held.get(i).release();
        }
      }
      for (BlockRun r : List.of(spare, scattered)) {
        r.view().release();
        r.blocks().forEach(ByteBuf::release);
      }
      assertThat(pool.freeBuffers()).isEqualTo(20);
    }
  }

  @Test
  void mapsNoSpareChunkBeyondWhatTheOwnerAllowsFree() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 4, () -> 4)) {
      BlockRun first = pool.allocateRun(4);
      BlockRun second = pool.allocateRun(4);
      first.blocks().get(1).release();

      BlockRun run = pool.allocateRun(4);
      assertThat(run.blocks()).as("a new chunk would leave five blocks free").hasSize(1);
      assertThat(pool.mappedChunks()).isEqualTo(2);

      for (BlockRun r : List.of(first, second, run)) {
        r.view().release();
      }
      List.of(first.blocks().get(0), first.blocks().get(2), first.blocks().get(3))
          .forEach(ByteBuf::release);
      second.blocks().forEach(ByteBuf::release);
      run.blocks().forEach(ByteBuf::release);
    }
  }

  @Test
  void aRunHasAtLeastOneBlock() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 4, () -> 8)) {
      assertThatThrownBy(() -> pool.allocateRun(0)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void unmapsAWhollyFreeChunkWhenMoreBlocksAreFreeThanTheOwnerAllows() {
    AtomicLong allowed = new AtomicLong(2);
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 2, allowed::get)) {
      ByteBuf[] bufs = new ByteBuf[4];
      for (int i = 0; i < bufs.length; i++) {
        bufs[i] = pool.directBuffer(BLOCK, BLOCK);
      }
      assertThat(pool.mappedChunks()).isEqualTo(2);
      for (ByteBuf b : bufs) {
        b.release();
      }
      assertThat(pool.freeBuffers()).isEqualTo(2);
      assertThat(pool.mappedChunks()).isOne();

      allowed.set(0);
      pool.directBuffer(BLOCK, BLOCK).release();
      assertThat(pool.freeBuffers()).as("asked again at each release").isZero();
      assertThat(pool.mappedChunks()).isZero();
    }
  }

  @Test
  void servesOtherSizesFromTheDefaultAllocator() {
    try (BlockBufferPool pool = new BlockBufferPool(BLOCK, 2, () -> 8)) {
      ByteBuf growable = pool.directBuffer(BLOCK);
      ByteBuf small = pool.directBuffer(100, 100);
      ByteBuf heap = pool.heapBuffer(BLOCK, BLOCK);
      assertThat(growable.alloc()).isNotSameAs(pool);
      assertThat(small.alloc()).isNotSameAs(pool);
      assertThat(heap.isDirect()).isFalse();
      growable.release();
      small.release();
      heap.release();
      assertThat(pool.mappedChunks()).isZero();
    }
  }

  @Test
  void keepsNothingAfterClose() {
    BlockBufferPool pool = new BlockBufferPool(BLOCK, 2, () -> 8);
    ByteBuf inUse = pool.directBuffer(BLOCK, BLOCK);
    pool.directBuffer(BLOCK, BLOCK).release();
    pool.close();
    assertThat(pool.mappedChunks()).as("a chunk with a block in use stays").isOne();
    inUse.writeInt(7);
    assertThat(inUse.getInt(0)).as("a buffer in use stays usable after close").isEqualTo(7);
    inUse.release();
    assertThat(pool.mappedChunks()).as("and is unmapped when its last block is released").isZero();
    assertThat(pool.freeBuffers()).isZero();
  }
}
