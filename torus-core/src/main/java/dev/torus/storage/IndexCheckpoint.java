package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * The whole index as of one moment ({@value StoreFiles#CHECKPOINT}), so that start-up replays only
 * the logs written since.
 *
 * <p>On-disk format, little-endian: magic {@code "TORUSCKP"}, format version (int), entry size
 * (int, 32), the generation of the first log to replay after it (long), the sequence number of the
 * last record it includes (long), the entry count (long); then per entry the ref's 24-byte wire
 * form, slot (int) and block CRC-32C (int); then the CRC-32C of everything before (int). It is
 * replaced only atomically, so a damaged one is reported as {@code CORRUPTED}, never repaired.
 *
 * @param generation the first log generation to replay on top of this checkpoint
 * @param seq the sequence number of the last record the checkpoint includes
 * @param index the entries
 */
record IndexCheckpoint(long generation, long seq, SlotIndex index) {
  private static final int VERSION = 1;
  private static final long MAGIC = 0x504b435355524f54L; // "TORUSCKP" read as a little-endian long
  private static final int HEADER_BYTES = 40;
  private static final int CHUNK_BYTES = 1 << 20;

  /** Writes a checkpoint of {@code entries} (from {@link SlotTable#snapshot}) atomically. */
  static void write(Path dir, long generation, long seq, List<ByteBuffer> entries)
      throws IOException {
    long count = 0;
    for (ByteBuffer chunk : entries) {
      count += chunk.remaining() / SlotIndex.ENTRY_BYTES;
    }
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(MAGIC).putInt(VERSION).putInt(SlotIndex.ENTRY_BYTES).putLong(generation)
        .putLong(seq).putLong(count).flip();
    CRC32C crc = new CRC32C();
    crc.update(header.duplicate());
    entries.forEach(chunk -> crc.update(chunk.duplicate()));
    ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    trailer.putInt((int) crc.getValue()).flip();
    List<ByteBuffer> parts = new ArrayList<>(entries.size() + 2);
    parts.add(header);
    parts.addAll(entries);
    parts.add(trailer);
    StoreFiles.writeAtomically(dir.resolve(StoreFiles.CHECKPOINT), parts.toArray(ByteBuffer[]::new));
  }

  /** The checkpoint in {@code dir}, or null if there is none yet. */
  static @Nullable IndexCheckpoint read(Path dir) throws IOException {
    Path file = dir.resolve(StoreFiles.CHECKPOINT);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      StoreFiles.readFully(ch, header, 0);
      long count = header.getLong(32);
      if (header.hasRemaining() || header.getLong(0) != MAGIC || header.getInt(8) != VERSION
          || header.getInt(12) != SlotIndex.ENTRY_BYTES || count < 0
          || count > SlotIndex.MAX_ENTRIES
          || ch.size() != HEADER_BYTES + count * SlotIndex.ENTRY_BYTES + 4) {
        throw damaged(file, "bad header or length");
      }
      CRC32C crc = new CRC32C();
      crc.update(header.flip());
      SlotIndex index = new SlotIndex((int) count);
      readEntries(ch, count, crc, index, file);
      ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      StoreFiles.readFully(ch, trailer, ch.size() - 4);
      if (trailer.getInt(0) != (int) crc.getValue()) {
        throw damaged(file, "checksum mismatch");
      }
      return new IndexCheckpoint(header.getLong(16), header.getLong(24), index);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static void readEntries(FileChannel ch, long count, CRC32C crc, SlotIndex index,
      Path file) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES / SlotIndex.ENTRY_BYTES
        * SlotIndex.ENTRY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long position = HEADER_BYTES;
    for (long left = count; left > 0; ) {
      int n = (int) Math.min(left, chunk.capacity() / SlotIndex.ENTRY_BYTES);
      chunk.clear().limit(n * SlotIndex.ENTRY_BYTES);
      if (StoreFiles.readFully(ch, chunk, position) < chunk.limit()) {
        throw damaged(file, "truncated");
      }
      crc.update(chunk.flip());
      for (int at = 0; at < chunk.limit(); at += SlotIndex.ENTRY_BYTES) {
        long word = chunk.getLong(at);
        long inode = chunk.getLong(at + 8);
        long idx = chunk.getLong(at + 16);
        checkRef(word, inode, idx, file);
        long packed = SlotIndex.pack(chunk.getInt(at + 24), chunk.getInt(at + 28));
        if (index.put(word, inode, idx, packed) != SlotIndex.ABSENT) {
          throw damaged(file, "block " + BlockRef.fromParts(word, inode, idx) + " appears twice");
        }
      }
      position += chunk.limit();
      left -= n;
    }
  }

  private static void checkRef(long word, long inode, long idx, Path file) {
    try {
      BlockRef.fromParts(word, inode, idx);
    } catch (IllegalArgumentException e) {
      throw damaged(file, "invalid block ref: " + e.getMessage());
    }
  }

  private static RuntimeException damaged(Path file, String why) {
    return TorusExceptions.corrupted("index checkpoint " + file + " is damaged (" + why + "); the"
        + " store's index cannot be recovered");
  }
}
