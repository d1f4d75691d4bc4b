package dev.torus.storage;

/** Capacity and usage of a {@link BlockStore}, in blocks of {@code blockSize} bytes. */
public record StoreStats(int blockSize, long capacityBlocks, long usedBlocks) {
  public StoreStats {
    if (blockSize <= 0 || capacityBlocks < 0 || usedBlocks < 0) {
      throw new IllegalArgumentException("invalid store stats");
    }
  }

  /** Capacity in bytes. */
  public long capacityBytes() {
    return capacityBlocks * blockSize;
  }

  /** Usage in bytes. */
  public long usedBytes() {
    return usedBlocks * blockSize;
  }
}
