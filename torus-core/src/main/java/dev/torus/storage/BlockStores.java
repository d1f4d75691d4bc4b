package dev.torus.storage;

import java.util.Objects;
import java.util.concurrent.Executor;

/** Factories for the local {@link BlockStore} implementations. */
public final class BlockStores {
  private BlockStores() {}

  /**
   * The slots a store of {@code capacityBlocks} keeps free of {@code DATA} blocks, for map pages:
   * see {@link BlockStore}, "Room for the map".
   */
  static long mapReserve(long capacityBlocks) {
    return capacityBlocks / 64;
  }

  /**
   * A store that keeps blocks in memory, off the Java heap (direct buffers: size the JVM's
   * {@code -XX:MaxDirectMemorySize} for {@code capacityBlocks}). Nothing survives the process;
   * {@link BlockStore#flush()} is a no-op. Fails puts with {@code OUT_OF_SPACE} beyond {@code
   * capacityBlocks}.
   */
  public static BlockStore inMemory(int blockSize, long capacityBlocks) {
    return new MemoryBlockStore(blockSize, capacityBlocks);
  }

  /**
   * Opens the durable file-backed store in {@code config.directory()}, creating it (and the
   * directory) if there is none. Blocks live in preallocated slots of one file, each checked
   * against its CRC-32C on every read; an index of checkpoint plus log makes a {@link
   * BlockStore#flush()} durable and lets the store open after a crash without reading its blocks.
   * The returned store is thread-safe. Its writes, deletes and flushes run on {@code ioExecutor},
   * which the caller owns and must keep running until the store is closed; its reads run on the
   * calling thread when the page cache holds the block, a copy of microseconds, and on {@code
   * ioExecutor} when the disk must supply it, so that a caller on an event loop never waits for
   * the disk.
   *
   * <p>Opening an existing store with a larger capacity grows it; an overwrite needs a free slot
   * until the next flush, since the old block is kept until the new one is durable.
   *
   * @throws dev.torus.TorusException {@code INVALID_ARGUMENT} if the directory holds a store of
   *     another block size or of a larger capacity than asked (stores grow, never shrink), or if
   *     the capacity exceeds what one store can index; {@code CORRUPTED} if the store's header or
   *     index cannot be recovered; {@code LOCKED} if the store is open in this or another process;
   *     {@code UNAVAILABLE} or {@code OUT_OF_SPACE} if the file system fails
   */
  public static BlockStore openFile(FileStoreConfig config, Executor ioExecutor) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(ioExecutor, "ioExecutor");
    return FileBlockStore.open(config, ioExecutor, FileBlockStore.DEFAULT_CHECKPOINT_MIN_BYTES);
  }
}
