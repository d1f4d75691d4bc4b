package dev.torus.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of a file store's files and the few file-system steps that must be done the same way
 * everywhere: full positional reads and writes, directory fsync, and write-to-temp-then-rename.
 */
final class StoreFiles {
  /** Magic, format version, block size, capacity: see {@link StoreHeader}. */
  static final String HEADER = "store.meta";
  /** The block slots. */
  static final String DATA = "blocks.dat";
  /** Held with an exclusive OS lock while the store is open. */
  static final String LOCK = "store.lock";
  /** The last index checkpoint: see {@link IndexCheckpoint}. */
  static final String CHECKPOINT = "index.ckpt";

  private static final String TEMP_SUFFIX = ".tmp";
  private static final Pattern LOG_NAME = Pattern.compile("index-([0-9a-f]{16})\\.log");
  // Large heap buffers are written in slices: the JDK copies a heap buffer into a temporary direct
  // buffer of the same size, and caching a 32 MiB one per thread would be wasteful.
  private static final int MAX_IO_SLICE = 1 << 20;

  private StoreFiles() {}

  /** The index log of one generation; generations sort by name. */
  static Path log(Path dir, long generation) {
    return dir.resolve(String.format("index-%016x.log", generation));
  }

  /** The index logs in {@code dir} by generation. */
  static SortedMap<Long, Path> logs(Path dir) throws IOException {
    SortedMap<Long, Path> logs = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        Matcher m = LOG_NAME.matcher(file.getFileName().toString());
        if (m.matches()) {
          logs.put(Long.parseUnsignedLong(m.group(1), 16), file);
        }
      }
    }
    return logs;
  }

  /** Deletes the logs older than {@code generation}, which a checkpoint has made redundant. */
  static void deleteLogsBefore(Path dir, long generation) throws IOException {
    for (Path old : logs(dir).headMap(generation).values()) {
      Files.deleteIfExists(old);
    }
    syncDirectory(dir);
  }

  /** Deletes what an interrupted {@link #writeAtomically} or log creation left behind. */
  static void deleteTemporaries(Path dir) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + TEMP_SUFFIX)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    }
  }

  /** Makes creations, renames and deletions of entries in {@code dir} durable. */
  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** The temporary name under which {@code target} is prepared before its rename. */
  static Path temporary(Path target) {
    return target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
  }

  /**
   * Replaces {@code target} with {@code content} so that a crash leaves either the old or the new
   * file, never a mix: write a temporary file, fsync it, rename it over the target, fsync the
   * directory.
   */
  static void writeAtomically(Path target, ByteBuffer... content) throws IOException {
    Path tmp = temporary(target);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      long position = 0;
      for (ByteBuffer part : content) {
        int length = part.remaining();
        writeFully(ch, part, position);
        position += length;
      }
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(target.getParent());
  }

  /** Writes all of {@code src} at {@code position}; a short write is retried, not returned. */
  static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    long pos = position;
    while (src.hasRemaining()) {
      ByteBuffer slice = src.slice();
      if (slice.remaining() > MAX_IO_SLICE) {
        slice.limit(MAX_IO_SLICE);
      }
      int n = ch.write(slice, pos);
      src.position(src.position() + n);
      pos += n;
    }
  }

  /**
   * Reads from {@code position} until {@code dst} is full or the file ends; returns the number of
   * bytes read.
   */
  static int readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
