package dev.torus.storage;

import io.netty.buffer.ByteBuf;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block slots ({@value StoreFiles#DATA}): slot {@code i} holds one block at byte {@code i *
 * blockSize}. The file is sized to the full capacity when opened (sparse, so the file system
 * allocates space as slots are first written). Thread-safe: every access is positional.
 */
final class DataFile implements Closeable {
  /**
   * The size of each read-only mapping {@link #cached} asks about. Blocks are powers of two of at
   * most 16 MiB, so no slot straddles two mappings.
   */
  private static final long MAPPING_BYTES = 1L << 30;
  private static final Logger LOG = LoggerFactory.getLogger(DataFile.class);

  private final Path path;
  private final FileChannel channel;
  private final int blockSize;
  /** The file mapped read-only and never read, only asked about (mincore); null if unmappable. */
  private final MappedByteBuffer @Nullable [] mappings;

  private DataFile(Path path, FileChannel channel, int blockSize,
      MappedByteBuffer @Nullable [] mappings) {
    this.path = path;
    this.channel = channel;
    this.blockSize = blockSize;
    this.mappings = mappings;
  }

  /** Opens or creates the data file of {@code dir} and extends it to {@code slots} slots. */
  static DataFile open(Path dir, int blockSize, long slots) throws IOException {
    Path path = dir.resolve(StoreFiles.DATA);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      long size = slots * blockSize;
      if (ch.size() < size) {
        // Writing the last byte extends the file without allocating the hole before it; the size
        // change must be durable before any slot in the new range is acknowledged.
        StoreFiles.writeFully(ch, ByteBuffer.allocate(1), size - 1);
        ch.force(true);
        StoreFiles.syncDirectory(dir);
      }
      return new DataFile(path, ch, blockSize, map(path, ch, Math.max(size, ch.size())));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The file mapped read-only in pieces of {@link #MAPPING_BYTES}, or null if it cannot be. */
  private static MappedByteBuffer @Nullable [] map(Path path, FileChannel ch, long size) {
    var mappings = new MappedByteBuffer[(int) ((size + MAPPING_BYTES - 1) / MAPPING_BYTES)];
    try {
      for (int i = 0; i < mappings.length; i++) {
        long at = i * MAPPING_BYTES;
        mappings[i] = ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(MAPPING_BYTES, size - at));
      }
      return mappings;
    } catch (IOException | UnsupportedOperationException e) {
      LOG.info("{} cannot be mapped ({}): every block read goes to the store's I/O threads", path,
          e.toString());
      return null;
    }
  }

  Path path() {
    return path;
  }

  int blockSize() {
    return blockSize;
  }

  /** Writes the {@code blockSize} readable bytes of {@code data} into a slot; keeps its indexes. */
  void write(int slot, ByteBuf data) throws IOException {
    long position = offset(slot);
    int index = data.readerIndex();
    if (data.nioBufferCount() == 1) {
      StoreFiles.writeFully(channel, data.nioBuffer(index, blockSize), position);
      return;
    }
    if (data.nioBufferCount() > 1) {
      for (ByteBuffer part : data.nioBuffers(index, blockSize)) {
        int length = part.remaining();
        StoreFiles.writeFully(channel, part, position);
        position += length;
      }
      return;
    }
    byte[] copy = new byte[blockSize];
    data.getBytes(index, copy);
    StoreFiles.writeFully(channel, ByteBuffer.wrap(copy), position);
  }

  /** Reads a slot into {@code dst}, which must have room for a block; advances its writer index. */
  void read(int slot, ByteBuf dst) throws IOException {
    int at = dst.writerIndex();
    int n = StoreFiles.readFully(channel, dst.nioBuffer(at, blockSize), offset(slot));
    if (n < blockSize) {
      throw new EOFException(path + " ends inside slot " + slot);
    }
    dst.writerIndex(at + blockSize);
  }

  /**
   * Whether the page cache holds every page of a slot, so that reading it now would not wait for
   * the disk. A hint: the kernel may evict the pages before the read.
   */
  boolean cached(int slot) {
    if (mappings == null) {
      return false;
    }
    long at = offset(slot);
    return mappings[(int) (at / MAPPING_BYTES)].slice((int) (at % MAPPING_BYTES), blockSize)
        .isLoaded();
  }

  /** Makes every completed {@link #write} durable (fdatasync). */
  void force() throws IOException {
    channel.force(false);
  }

  private long offset(int slot) {
    return (long) slot * blockSize;
  }

  @Override
  public String toString() {
    return path.toString();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
