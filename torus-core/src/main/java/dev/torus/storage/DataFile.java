package dev.torus.storage;

import io.netty.buffer.ByteBuf;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The block slots ({@value StoreFiles#DATA}): slot {@code i} holds one block at byte {@code i *
 * blockSize}. The file is sized to the full capacity when opened (sparse, so the file system
 * allocates space as slots are first written). Thread-safe: every access is positional.
 */
final class DataFile implements Closeable {
  private final Path path;
  private final FileChannel channel;
  private final int blockSize;

  private DataFile(Path path, FileChannel channel, int blockSize) {
    this.path = path;
    this.channel = channel;
    this.blockSize = blockSize;
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
      return new DataFile(path, ch, blockSize);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
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

  /** Makes every completed {@link #write} durable (fdatasync). */
  void force() throws IOException {
    channel.force(false);
  }

  private long offset(int slot) {
    return (long) slot * blockSize;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
