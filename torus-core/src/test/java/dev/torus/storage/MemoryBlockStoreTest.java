package dev.torus.storage;

/** Runs the {@link BlockStoreContract} against the in-memory store. */
final class MemoryBlockStoreTest implements BlockStoreContract {
  @Override
  public BlockStore newStore(int blockSize, long capacityBlocks) {
    return BlockStores.inMemory(blockSize, capacityBlocks);
  }
}
