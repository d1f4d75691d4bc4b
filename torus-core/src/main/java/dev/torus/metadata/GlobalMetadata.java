package dev.torus.metadata;

import dev.torus.DataSize;
import java.util.Objects;

/**
 * Settings fixed when the cluster is initialised.
 *
 * @param blockSize bytes per block and per map page, cluster-wide
 * @param blockSpec how blocks are checked; {@code crc32c} is the only spec so far
 */
public record GlobalMetadata(int blockSize, String blockSpec) {
  /** The default block spec. */
  public static final String CRC32C = "crc32c";

  /**
   * The block size of a cluster initialised without one, as the CLI writes it: picked by measuring
   * 4 KiB random and 1 MiB sequential I/O over NBD at several sizes (docs/benchmarks.md).
   */
  public static final String DEFAULT_BLOCK_SIZE = "32KiB";

  /** {@link #DEFAULT_BLOCK_SIZE} in bytes. */
  public static int defaultBlockSize() {
    return Math.toIntExact(DataSize.parse(DEFAULT_BLOCK_SIZE).bytes());
  }

  public GlobalMetadata {
    Objects.requireNonNull(blockSpec, "blockSpec");
    if (Integer.bitCount(blockSize) != 1 || blockSize < 4096 || blockSize > (16 << 20)) {
      throw new IllegalArgumentException(
          "block size must be a power of two between 4 KiB and 16 MiB: " + blockSize);
    }
  }
}
