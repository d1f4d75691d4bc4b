package dev.torus.storage;

import static dev.torus.storage.BlockStoreContract.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Runs the {@link BlockStoreContract} against the in-memory store, plus its memory rules. */
final class MemoryBlockStoreTest implements BlockStoreContract {
  @Override
  public BlockStore newStore(int blockSize, long capacityBlocks) {
    return BlockStores.inMemory(blockSize, capacityBlocks);
  }

  @Test
  void keepsAWholeBlockOfItsPoolAndCopiesAnythingElse() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      byte[] bytes = Blocks.random(3 * BLOCK_SIZE, 5);
      ByteBuf large = store.allocator().directBuffer(3 * BLOCK_SIZE).writeBytes(bytes);
      Futures.join(store.putBlock(ref(1), large.retainedSlice(BLOCK_SIZE, BLOCK_SIZE)));
      large.release();
      assertThat(large.refCnt()).as("a slice is copied, not kept with the memory around it")
          .isZero();

      ByteBuf other = Unpooled.directBuffer(BLOCK_SIZE, BLOCK_SIZE).writeBytes(bytes, 0, BLOCK_SIZE);
      Futures.join(store.putBlock(ref(3), other));
      assertThat(other.refCnt()).as("a block from another allocator is copied").isZero();

      ByteBuf whole = store.allocator().directBuffer(BLOCK_SIZE, BLOCK_SIZE)
          .writeBytes(bytes, 0, BLOCK_SIZE);
      Futures.join(store.putBlock(ref(2), whole.retain()));
      whole.release();
      assertThat(whole.refCnt()).as("a whole block of the store's pool is kept, not copied")
          .isOne();

      byte[] expected = new byte[BLOCK_SIZE];
      System.arraycopy(bytes, BLOCK_SIZE, expected, 0, BLOCK_SIZE);
      assertThat(Blocks.read(store, ref(1))).isEqualTo(expected);
      Futures.join(store.deleteBlock(ref(2)));
      assertThat(whole.refCnt()).as("and released when deleted").isZero();
    }
  }

  @Test
  void reusesTheMemoryOfDeletedBlocksWithinItsCapacity() {
    try (BlockStore store = newStore(BLOCK_SIZE, 3)) {
      BlockBufferPool pool = (BlockBufferPool) store.allocator();
      for (int i = 0; i < 3; i++) {
        ByteBuf block = store.allocator().directBuffer(BLOCK_SIZE, BLOCK_SIZE).writeZero(BLOCK_SIZE);
        Futures.join(store.putBlock(ref(i), block));
      }
      Futures.join(store.deleteBlock(ref(0)));
      Futures.join(store.deleteBlock(ref(1)));
      assertThat(pool.freeBuffers()).as("two deleted blocks' memory kept for new blocks").isEqualTo(2);

      ByteBuf next = store.allocator().directBuffer(BLOCK_SIZE, BLOCK_SIZE).writeZero(BLOCK_SIZE);
      assertThat(pool.freeBuffers()).isOne();
      Futures.join(store.putBlock(ref(5), next));
      Futures.join(store.putBlock(ref(6), Blocks.buf(BLOCK_SIZE, 6)));
      assertThat(pool.freeBuffers()).as("a copied block takes kept memory too").isZero();

      Futures.join(store.deleteBlock(ref(5)));
      Futures.join(store.deleteBlock(ref(6)));
      Futures.join(store.deleteBlock(ref(2)));
      assertThat(pool.freeBuffers()).as("stored and kept blocks stay within the capacity")
          .isEqualTo(3);
    }
  }
}
