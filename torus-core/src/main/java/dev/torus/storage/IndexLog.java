package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.internal.buffer.Crc32c;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One generation of the append-only index log ({@code index-<generation>.log}), open for appends.
 *
 * <p>On-disk format, little-endian. A 24-byte header: magic {@code "TORUSLOG"}, format version
 * (int), generation (long), CRC-32C of the preceding 20 bytes (int). Then records, each: CRC-32C of
 * the rest of the record (int), type (byte), sequence number (long), and by type:
 *
 * <ul>
 *   <li>{@link #PUT} (45 bytes): the ref's 24-byte wire form, slot (int), the block's CRC-32C (int);
 *   <li>{@link #DELETE} (37 bytes): the ref's wire form;
 *   <li>{@link #FLUSH} (21 bytes): the covered sequence number (long): every record up to it has its
 *       block data and its own bytes on stable storage.
 * </ul>
 *
 * <p>Sequence numbers increase strictly over the life of the store, across generations. Records
 * are written at a tracked end offset, never in append mode, and the end moves only after a write
 * succeeded; a failed write (say, ENOSPC) leaves at most a fragment beyond the end, which the next
 * record overwrites and which a reader rejects by checksum or sequence. The file is extended with
 * zeros ahead of the records, so that most fdatasyncs need not write file-size metadata and a full
 * file system shows up in the extension rather than halfway through a record.
 *
 * <p>Not thread-safe: {@link IndexJournal} serialises appends; {@link #force} may run concurrently.
 */
final class IndexLog implements Closeable {
  static final int VERSION = 1;
  static final long MAGIC = 0x474f4c5355524f54L; // "TORUSLOG" read as a little-endian long
  static final int HEADER_BYTES = 24;
  static final byte PUT = 1;
  static final byte DELETE = 2;
  static final byte FLUSH = 3;
  static final int PUT_BYTES = 45;
  static final int DELETE_BYTES = 37;
  static final int FLUSH_BYTES = 21;
  static final int EXTEND_BYTES = 1 << 20;

  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(EXTEND_BYTES).asReadOnlyBuffer();

  private final Path path;
  private final FileChannel channel;
  private final long generation;
  private final ByteBuffer record = ByteBuffer.allocate(PUT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private long end;
  private long extended;

  private IndexLog(Path path, FileChannel channel, long generation, long end) throws IOException {
    this.path = path;
    this.channel = channel;
    this.generation = generation;
    this.end = end;
    this.extended = channel.size();
  }

  /**
   * Creates the log of a new generation, durably and under its final name only once complete, so a
   * visible log always has a valid header.
   */
  static IndexLog create(Path dir, long generation) throws IOException {
    Path path = StoreFiles.log(dir, generation);
    Path tmp = StoreFiles.temporary(path);
    FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      header.putLong(MAGIC).putInt(VERSION).putLong(generation);
      header.putInt(Crc32c.of(header.array(), 0, HEADER_BYTES - 4)).flip();
      StoreFiles.writeFully(ch, header, 0);
      StoreFiles.writeFully(ch, ZEROS.duplicate(), HEADER_BYTES);
      ch.force(true);
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
      StoreFiles.syncDirectory(dir);
      return new IndexLog(path, ch, generation, HEADER_BYTES);
    } catch (IOException | RuntimeException e) {
      ch.close();
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** Opens an existing log to append after its last valid record, which ends at {@code end}. */
  static IndexLog openForAppend(Path path, long generation, long end) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      return new IndexLog(path, ch, generation, end);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  long generation() {
    return generation;
  }

  Path path() {
    return path;
  }

  /** Bytes up to the end of the last record, header included. */
  long size() {
    return end;
  }

  void appendPut(long seq, BlockRef ref, int slot, int blockCrc) throws IOException {
    start(PUT, seq);
    putRef(ref);
    record.putInt(slot).putInt(blockCrc);
    finish();
  }

  void appendDelete(long seq, BlockRef ref) throws IOException {
    start(DELETE, seq);
    putRef(ref);
    finish();
  }

  void appendFlush(long seq, long coveredSeq) throws IOException {
    start(FLUSH, seq);
    record.putLong(coveredSeq);
    finish();
  }

  /** Cuts the file at the end of the last record, dropping whatever follows it. */
  void truncateToEnd() throws IOException {
    channel.truncate(end);
    extended = end;
  }

  /** Makes every completed append durable (fdatasync). */
  void force() throws IOException {
    channel.force(false);
  }

  /** The ref's wire form ({@link BlockRef#writeTo}), written without an intermediate buffer. */
  private void putRef(BlockRef ref) {
    record.putLong(ref.volumeWord()).putLong(ref.inode()).putLong(ref.index());
  }

  private void start(byte type, long seq) {
    record.clear();
    record.putInt(0).put(type).putLong(seq);
  }

  private void finish() throws IOException {
    int length = record.position();
    record.putInt(0, Crc32c.of(record.array(), 4, length - 4));
    record.flip();
    if (end + length > extended) {
      StoreFiles.writeFully(channel, ZEROS.duplicate(), extended);
      extended += EXTEND_BYTES;
    }
    StoreFiles.writeFully(channel, record, end);
    end += length;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
