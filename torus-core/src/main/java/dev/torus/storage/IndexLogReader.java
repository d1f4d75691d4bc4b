package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads the records of one {@link IndexLog} file in order, as a cursor: {@link #next()} then the
 * accessors of the current record. Not thread-safe.
 *
 * <p>Reading ends cleanly at the first record that is incomplete, fails its checksum, has an
 * unknown type or does not have a higher sequence number than the one before it: that is where the
 * writer stopped (a torn tail after a crash, or the fragment of a failed append). A damaged header
 * fails with {@code CORRUPTED}: a log gets its name only after its header is durable.
 */
final class IndexLogReader implements Closeable {
  private static final int BUFFER_BYTES = 1 << 20;

  private final Path path;
  private final FileChannel channel;
  private final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private long bufStart; // file offset of buf's first byte
  private boolean eof;
  private long validEnd = IndexLog.HEADER_BYTES;
  private long seq;
  private byte type;
  private @Nullable BlockRef ref;
  private int slot;
  private int blockCrc;
  private long coveredSeq;

  private IndexLogReader(Path path, FileChannel channel, long afterSeq) {
    this.path = path;
    this.channel = channel;
    this.seq = afterSeq;
    buf.limit(0);
  }

  /**
   * Opens a log to read the records with sequence numbers above {@code afterSeq}; fails with
   * {@code CORRUPTED} if its header is damaged or names another generation than {@code
   * generation}.
   */
  static IndexLogReader open(Path path, long generation, long afterSeq) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      ByteBuffer h = ByteBuffer.allocate(IndexLog.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      int n = StoreFiles.readFully(ch, h, 0);
      if (n < IndexLog.HEADER_BYTES || h.getLong(0) != IndexLog.MAGIC
          || h.getInt(IndexLog.HEADER_BYTES - 4) != Crc32c.of(h.array(), 0, IndexLog.HEADER_BYTES - 4)
          || h.getInt(8) != IndexLog.VERSION || h.getLong(12) != generation) {
        throw TorusExceptions.corrupted("index log " + path + " has a damaged header; the store's"
            + " index cannot be recovered");
      }
      IndexLogReader reader = new IndexLogReader(path, ch, afterSeq);
      reader.bufStart = IndexLog.HEADER_BYTES;
      return reader;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Moves to the next valid record; false at the end of the valid records. */
  boolean next() throws IOException {
    if (!ensure(5)) {
      return false;
    }
    int at = buf.position();
    byte t = buf.get(at + 4);
    int length = switch (t) {
      case IndexLog.PUT -> IndexLog.PUT_BYTES;
      case IndexLog.DELETE -> IndexLog.DELETE_BYTES;
      case IndexLog.FLUSH -> IndexLog.FLUSH_BYTES;
      default -> 0;
    };
    if (length == 0 || !ensure(length)) {
      return false;
    }
    at = buf.position();
    long s = buf.getLong(at + 5);
    if (buf.getInt(at) != Crc32c.of(buf.array(), at + 4, length - 4) || s <= seq) {
      return false;
    }
    type = t;
    seq = s;
    if (t == IndexLog.FLUSH) {
      coveredSeq = buf.getLong(at + 13);
    } else {
      ref = readRef(at + 13);
      if (t == IndexLog.PUT) {
        slot = buf.getInt(at + 37);
        blockCrc = buf.getInt(at + 41);
      }
    }
    buf.position(at + length);
    validEnd = bufStart + buf.position();
    return true;
  }

  byte type() {
    return type;
  }

  long seq() {
    return seq;
  }

  /** The ref of the current {@link IndexLog#PUT} or {@link IndexLog#DELETE} record. */
  BlockRef ref() {
    return Objects.requireNonNull(ref, "no record read");
  }

  int slot() {
    return slot;
  }

  int blockCrc() {
    return blockCrc;
  }

  long coveredSeq() {
    return coveredSeq;
  }

  /** The file offset just past the last valid record so far. */
  long validEnd() {
    return validEnd;
  }

  /**
   * Whether everything after {@link #validEnd()} is zeros (the writer's preallocation), as
   * opposed to a torn or failed record. Call after {@link #next()} returned false.
   */
  boolean endsCleanly() throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
    long pos = validEnd;
    while (true) {
      chunk.clear();
      int n = StoreFiles.readFully(channel, chunk, pos);
      if (n == 0) {
        return true;
      }
      for (int i = 0; i < n; i++) {
        if (chunk.get(i) != 0) {
          return false;
        }
      }
      pos += n;
    }
  }

  /**
   * Whether two FLUSH markers with rising sequence numbers lie after {@link #validEnd()}. A flush
   * appends its marker only after the previous flush's log fdatasync completed, so a second marker
   * proves that the bytes before the first were durable: the log was damaged after it was
   * written, and records it promised are beyond the point where replay stopped. A torn tail
   * cannot look like this. Call after {@link #next()} returned false.
   */
  boolean flushedRecordsFollow() throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    long after = seq;
    int markers = 0;
    long pos = validEnd + 1;
    while (markers < 2) {
      chunk.clear();
      int n = StoreFiles.readFully(channel, chunk, pos);
      if (n < IndexLog.FLUSH_BYTES) {
        return false;
      }
      int last = n - IndexLog.FLUSH_BYTES;
      for (int i = 0; i <= last && markers < 2; i++) {
        if (chunk.get(i + 4) == IndexLog.FLUSH && chunk.getLong(i + 5) > after
            && chunk.getInt(i) == Crc32c.of(chunk.array(), i + 4, IndexLog.FLUSH_BYTES - 4)) {
          after = chunk.getLong(i + 5);
          markers++;
        }
      }
      pos += last + 1;
    }
    return true;
  }

  private BlockRef readRef(int at) {
    try {
      return BlockRef.fromParts(buf.getLong(at), buf.getLong(at + 8), buf.getLong(at + 16));
    } catch (IllegalArgumentException e) {
      // The record's checksum matched, so this is no torn write: the writer logged a bad ref.
      throw TorusExceptions.corrupted("index log " + path + " holds an invalid block ref at offset "
          + (bufStart + at) + ": " + e.getMessage());
    }
  }

  /** Whether {@code bytes} bytes are buffered at the position, refilling from the file as needed. */
  private boolean ensure(int bytes) throws IOException {
    if (buf.remaining() >= bytes) {
      return true;
    }
    if (eof) {
      return false;
    }
    bufStart += buf.position();
    buf.compact();
    StoreFiles.readFully(channel, buf, bufStart + buf.position());
    eof = buf.hasRemaining();
    buf.flip();
    return buf.remaining() >= bytes;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
