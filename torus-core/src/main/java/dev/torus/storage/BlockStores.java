package dev.torus.storage;

/** Factories for the local {@link BlockStore} implementations. */
public final class BlockStores {
  private BlockStores() {}

  /**
   * A store that keeps blocks on the heap. Nothing survives the process; {@link
   * BlockStore#flush()} is a no-op. Fails puts with {@code OUT_OF_SPACE} beyond {@code
   * capacityBlocks}.
   */
  public static BlockStore inMemory(int blockSize, long capacityBlocks) {
    return new MemoryBlockStore(blockSize, capacityBlocks);
  }
}
