package dev.torus.storage;

import dev.torus.DataSize;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Configuration of the durable file-backed store.
 *
 * @param directory where the store keeps its files (created if missing)
 * @param blockSize bytes per block; a power of two between 4 KiB and 16 MiB
 * @param capacity how much block data the store may hold; rounded down to whole blocks
 * @param maxUnflushed how much unflushed data may pile up before the store syncs on its own, which
 *     bounds the work of crash recovery
 */
public record FileStoreConfig(Path directory, int blockSize, DataSize capacity, DataSize maxUnflushed) {
  /** Default for {@link #maxUnflushed()}. */
  public static final DataSize DEFAULT_MAX_UNFLUSHED = DataSize.ofMebibytes(256);

  public FileStoreConfig {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(capacity, "capacity");
    Objects.requireNonNull(maxUnflushed, "maxUnflushed");
    if (Integer.bitCount(blockSize) != 1 || blockSize < 4096 || blockSize > (16 << 20)) {
      throw new IllegalArgumentException(
          "block size must be a power of two between 4 KiB and 16 MiB: " + blockSize);
    }
    if (capacity.bytes() < blockSize) {
      throw new IllegalArgumentException("capacity " + capacity + " is smaller than one block");
    }
  }

  /** A config with the default {@link #maxUnflushed()}. */
  public static FileStoreConfig of(Path directory, int blockSize, DataSize capacity) {
    return new FileStoreConfig(directory, blockSize, capacity, DEFAULT_MAX_UNFLUSHED);
  }

  /** How many blocks fit. */
  public long capacityBlocks() {
    return capacity.bytes() / blockSize;
  }
}
