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
 * only atomically (temporary file and rename), on creation and when the capacity grows, each time
 * after the data file was sized: a failed growth leaves the old header.
 */
record StoreHeader(int blockSize, long capacityBlocks) {
  static final int VERSION = 1;
  private static final long MAGIC = 0x4b4c425355524f54L; // "TORUSBLK" read as a little-endian long
  private static final int BYTES = 28;

  /**
   * The header that the store in {@code dir}, whose current header is {@code existing} (see {@link
   * #read}), must have to match {@code config}: {@code existing}, or a grown or new one that the
   * caller writes with {@link #write} once the data file has the room. Fails with {@code INVALID_ARGUMENT} if the store there has another block size or a larger
   * capacity, {@code CORRUPTED} if the header is damaged, or missing while index files exist,
   * and {@code NOT_SUPPORTED} if it is of another format version.
   */
  static StoreHeader required(Path dir, @Nullable StoreHeader existing, FileStoreConfig config)
      throws IOException {
    long asked = config.capacityBlocks();
    if (existing == null) {
      if (Files.exists(dir.resolve(StoreFiles.CHECKPOINT)) || !StoreFiles.logs(dir).isEmpty()) {
        throw TorusExceptions.corrupted(dir.resolve(StoreFiles.HEADER) + " is missing but the"
            + " store's index files exist; restore it from a backup or remove the directory");
      }
      return new StoreHeader(config.blockSize(), asked);
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
    return existing.capacityBlocks < asked ? new StoreHeader(existing.blockSize, asked) : existing;
  }

  long capacityBytes() {
    return capacityBlocks * blockSize;
  }

  /**
   * The header of the store in {@code dir}, or null if there is none; fails with {@code CORRUPTED}
   * or {@code NOT_SUPPORTED} as {@link #required}.
   */
  static @Nullable StoreHeader read(Path dir) throws IOException {
    Path file = dir.resolve(StoreFiles.HEADER);
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

  /** Replaces the header of the store in {@code dir} atomically. */
  void write(Path dir) throws IOException {
    Path file = dir.resolve(StoreFiles.HEADER);
    ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(MAGIC).putInt(VERSION).putInt(blockSize).putLong(capacityBlocks);
    b.putInt(Crc32c.of(b.array(), 0, BYTES - 4)).flip();
    StoreFiles.writeAtomically(file, b);
  }
}
