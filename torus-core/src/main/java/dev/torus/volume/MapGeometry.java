package dev.torus.volume;

import dev.torus.TorusExceptions;

/**
 * The shape of a block map for one block size: how many entries a page holds and how tall a tree
 * a volume of a given size needs. Entry {@code e} of a page at level {@code l} covers {@code
 * fanout^l} consecutive data blocks; leaves are level 0.
 */
record MapGeometry(int blockSize) {
  /** The largest volume: 1 EiB, far below what the 64-bit block index could address. */
  static final long MAX_SIZE = 1L << 60;

  MapGeometry {
    if (blockSize < MapPage.HEADER + 2 * MapPage.ENTRY) {
      throw new IllegalArgumentException("block size too small for a map page: " + blockSize);
    }
  }

  int fanout() {
    return (blockSize - MapPage.HEADER) / MapPage.ENTRY;
  }

  /** Data blocks needed for {@code size} bytes. */
  long blocksFor(long size) {
    return (size + blockSize - 1) / blockSize;
  }

  /** Fails with {@code INVALID_ARGUMENT} unless {@code size} is a valid volume size. */
  static long checkSize(long size) {
    if (size <= 0 || size > MAX_SIZE) {
      throw TorusExceptions.invalid("volume size must be between 1 byte and 1 EiB, got " + size);
    }
    return size;
  }

  /** The smallest tree height (at least 1) that covers {@code blocks} data blocks. */
  int levelsForBlocks(long blocks) {
    int levels = 1;
    long capacity = fanout();
    while (capacity < blocks) {
      levels++;
      capacity = Math.multiplyExact(capacity, (long) fanout());
    }
    return levels;
  }

  /** Data blocks covered by one entry of a page at {@code level}: {@code fanout^level}. */
  long entrySpan(int level) {
    long span = 1;
    for (int i = 0; i < level; i++) {
      span = Math.multiplyExact(span, (long) fanout());
    }
    return span;
  }
}
