package dev.torus.volume;

import dev.torus.BlockRef;
import java.util.Objects;

/** A stored block and the CRC-32C its bytes must have: what a map entry holds. */
record BlockPointer(BlockRef ref, int crc) {
  BlockPointer {
    Objects.requireNonNull(ref, "ref");
  }
}
