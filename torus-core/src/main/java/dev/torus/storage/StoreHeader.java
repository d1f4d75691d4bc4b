package dev.torus.storage;

import dev.torus.DataSize;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The manifest of a file store ({@value StoreFiles#HEADER}): what the store's other files mean.
 *
 * <p>On-disk format, 28 bytes, little-endian: magic {@code "TORUSBLK"}, format version (int), block
 * size (int), capacity in blocks (long), CRC-32C of the preceding 24 bytes (int). It is replaced
 * only atomically (temporary file and rename), on creation and when the capacity grows.
 */
record StoreHeader(int blockSize, long capacityBlocks) {
  static final int VERSION = 1;
  private static final long MAGIC = 0x4b4c425355524f54L; // "TORUSBLK" read as a little-endian long
  private static final int BYTES = 28;

  /**
   * The header of the store in {@code dir}, created or grown to match {@code config}. Fails with
   * {@code INVALID_ARGUMENT} if the store there has another block size or a larger capacity, and
   * with {@code CORRUPTED} if the header is damaged, {@code NOT_SUPPORTED} if it is of another
   * format version.
   */
  static StoreHeader openOrCreate(Path dir, FileStoreConfig config) throws IOException {
    Path file = dir.resolve(StoreFiles.HEADER);
    long asked = config.capacityBlocks();
    StoreHeader existing = read(file);
    if (existing == null) {
      StoreHeader created = new StoreHeader(config.blockSize(), asked);
      created.write(file);
      return created;
    }
    if (existing.blockSize != config.blockSize()) {
      throw TorusExceptions.invalid("the block store in " + dir + " has " + existing.blockSize
          + "-byte blocks, not " + config.blockSize() + ": open it with its block size or use"
          + " another directory");
    }
    if (existing.capacityBlocks > asked) {
      throw TorusExceptions.invalid("the block store in " + dir + " holds "
          + DataSize.ofBytes(existing.capacityBytes()) + " (" + existing.capacityBlocks
          + " blocks) and cannot shrink to " + DataSize.ofBytes(asked * config.blockSize())
          + ": ask for at least its current capacity");
    }
    if (existing.capacityBlocks < asked) {
      StoreHeader grown = new StoreHeader(existing.blockSize, asked);
      grown.write(file);
      return grown;
    }
    return existing;
  }

  long capacityBytes() {
    return capacityBlocks * blockSize;
  }

  private static @Nullable StoreHeader read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length != BYTES || b.getLong(0) != MAGIC
        || b.getInt(BYTES - 4) != Crc32c.of(bytes, 0, BYTES - 4)) {
      throw TorusExceptions.corrupted(file + " is not a valid block store header (" + bytes.length
          + " bytes, bad magic or checksum); restore it from a backup or remove the directory");
    }
    int version = b.getInt(8);
    if (version != VERSION) {
      throw TorusExceptions.notSupported(file + " has format version " + version
          + "; this Torus reads version " + VERSION);
    }
    return new StoreHeader(b.getInt(12), b.getLong(16));
  }

  private void write(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(MAGIC).putInt(VERSION).putInt(blockSize).putLong(capacityBlocks);
    b.putInt(Crc32c.of(b.array(), 0, BYTES - 4)).flip();
    StoreFiles.writeAtomically(file, b);
  }
}
