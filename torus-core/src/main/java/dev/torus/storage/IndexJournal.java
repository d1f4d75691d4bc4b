package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead side of a file store: logs puts and deletes to the current {@link IndexLog} and
 * publishes them in the {@link SlotTable} in log order, makes them durable on {@link #flush}, and
 * replaces the log with a checkpoint when the log has grown. Thread-safe; the locks and the flush
 * and checkpoint steps are explained in {@link FileBlockStore}'s design comment.
 */
final class IndexJournal implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(IndexJournal.class);
  private static final int SNAPSHOT_CHUNK_BYTES = 1 << 20;

  private final Path dir;
  private final DataFile data;
  private final SlotTable table;
  private final long maxUnflushed;
  private final long checkpointMinBytes;
  private final ReentrantLock flushLock = new ReentrantLock();
  private final ReentrantLock logLock = new ReentrantLock();
  // Guarded by logLock; replaced only while flushLock is held as well.
  private IndexLog log;
  private long lastSeq;
  private long unflushedBytes;
  // Written under logLock: the sequence number of the last put or delete.
  private volatile long lastChangeSeq;
  // Written under flushLock: every put and delete up to it is durable.
  private volatile long durableSeq;
  private volatile @Nullable IOException syncFailure;

  private IndexJournal(Path dir, DataFile data, SlotTable table, IndexLog log, long lastSeq,
      long maxUnflushed, long checkpointMinBytes) {
    this.dir = dir;
    this.data = data;
    this.table = table;
    this.log = log;
    this.lastSeq = lastSeq;
    this.lastChangeSeq = lastSeq;
    this.durableSeq = lastSeq;
    this.maxUnflushed = maxUnflushed;
    this.checkpointMinBytes = checkpointMinBytes;
  }

  /**
   * Starts journaling on top of a recovered index, appending to the last replayed log, or to a new
   * one if there was none. Unless recovery found nothing to replay, first seals what it recovered:
   * see {@link #seal}.
   */
  static IndexJournal open(Path dir, DataFile data, SlotTable table, IndexRecovery.Result recovered,
      long maxUnflushed, long checkpointMinBytes) throws IOException {
    SortedMap<Long, Path> logs = recovered.logs();
    long lastSeq = recovered.lastSeq();
    IndexLog log;
    if (logs.isEmpty()) {
      log = IndexLog.create(dir, recovered.firstGeneration());
    } else {
      log = IndexLog.openForAppend(logs.get(logs.lastKey()), logs.lastKey(), recovered.logEnd());
      try {
        if (!recovered.clean()) {
          lastSeq = seal(log, data, recovered);
        }
      } catch (IOException | RuntimeException e) {
        log.close();
        throw e;
      }
    }
    return new IndexJournal(dir, data, table, log, lastSeq, maxUnflushed, checkpointMinBytes);
  }

  /**
   * Makes a recovered index durable before the store accepts writes, since it may hold unflushed
   * deletes whose slots are about to be reused, and dropped puts whose records a later marker must
   * not cover. Cuts the last log at its last valid record, so nothing torn or stale stays after
   * what is appended next; logs a record that restores the previous value of each dropped put;
   * fdatasyncs the data file and the earlier logs; appends a FLUSH marker covering everything;
   * fdatasyncs the log. Returns the marker's sequence number.
   */
  private static long seal(IndexLog log, DataFile data, IndexRecovery.Result recovered)
      throws IOException {
    log.truncateToEnd();
    long seq = recovered.lastSeq();
    for (IndexRecovery.Restore restore : recovered.restores()) {
      long previous = restore.previous();
      if (previous == SlotIndex.ABSENT) {
        log.appendDelete(++seq, restore.ref());
      } else {
        log.appendPut(++seq, restore.ref(), SlotIndex.slot(previous), SlotIndex.crc(previous));
      }
    }
    data.force();
    for (Path earlier : recovered.logs().headMap(log.generation()).values()) {
      try (FileChannel ch = FileChannel.open(earlier, StandardOpenOption.WRITE)) {
        ch.force(false);
      }
    }
    log.appendFlush(seq + 1, seq);
    log.force();
    return seq + 1;
  }

  /**
   * Logs a put whose block is already written to {@code slot}, then publishes it. Returns whether
   * unflushed data now exceeds the limit, so that the caller should {@link #flushIfOverLimit}.
   */
  boolean logPut(BlockRef ref, int slot, int crc) throws IOException {
    logLock.lock();
    try {
      checkWritable();
      long seq = ++lastSeq;
      log.appendPut(seq, ref, slot, crc);
      table.publish(ref, slot, crc);
      lastChangeSeq = seq;
      unflushedBytes += data.blockSize() + IndexLog.PUT_BYTES;
      return unflushedBytes > maxUnflushed;
    } finally {
      logLock.unlock();
    }
  }

  /** Logs and applies a delete of a stored block (nothing if absent); returns as {@link #logPut}. */
  boolean logDelete(BlockRef ref) throws IOException {
    logLock.lock();
    try {
      checkWritable();
      if (table.lookup(ref) == SlotIndex.ABSENT) {
        return false;
      }
      long seq = ++lastSeq;
      log.appendDelete(seq, ref);
      table.remove(ref);
      lastChangeSeq = seq;
      unflushedBytes += IndexLog.DELETE_BYTES;
      return unflushedBytes > maxUnflushed;
    } finally {
      logLock.unlock();
    }
  }

  /** Makes every put and delete logged before the call durable. */
  void flush() throws IOException {
    checkWritable();
    long target = lastChangeSeq;
    if (durableSeq >= target) {
      return;
    }
    flushLock.lock();
    try {
      // A flush that ran while this one waited for the lock may already cover the target.
      if (durableSeq < target) {
        flushLocked();
      }
    } finally {
      flushLock.unlock();
    }
  }

  /** Flushes if unflushed data exceeds the limit, unless another thread just did. */
  void flushIfOverLimit() throws IOException {
    flushLock.lock();
    try {
      logLock.lock();
      boolean over;
      try {
        over = unflushedBytes > maxUnflushed;
      } finally {
        logLock.unlock();
      }
      if (over) {
        flushLocked();
      }
    } finally {
      flushLock.unlock();
    }
  }

  /** Flushes, writes a checkpoint if anything was logged since the last one, closes the log. */
  @Override
  public void close() throws IOException {
    flushLock.lock();
    try {
      checkWritable();
      if (durableSeq < lastChangeSeq) {
        flushLocked();
      }
      if (logBytes() > IndexLog.HEADER_BYTES) {
        try {
          checkpointLocked();
        } catch (IOException e) {
          // The flush made everything durable in the log; the next open replays it.
          LOG.warn("block store in {}: checkpoint on close failed, the next open replays the log",
              dir, e);
        }
      }
    } finally {
      try {
        log.close();
      } finally {
        flushLock.unlock();
      }
    }
  }

  /* Requires flushLock. */
  private void flushLocked() throws IOException {
    checkWritable();
    long covered;
    IntStack freed;
    long captured;
    logLock.lock();
    try {
      covered = lastChangeSeq;
      freed = table.takePending();
      captured = unflushedBytes;
      unflushedBytes = 0;
    } finally {
      logLock.unlock();
    }
    try {
      // Every record up to `covered` was logged after its block was written, so this one
      // fdatasync covers all their blocks; the marker then says so.
      sync(data::force, data.path());
      IndexLog current;
      logLock.lock();
      try {
        current = log;
        current.appendFlush(++lastSeq, covered);
      } finally {
        logLock.unlock();
      }
      sync(current::force, current.path());
    } catch (IOException | RuntimeException e) {
      undo(freed, captured);
      throw e;
    }
    durableSeq = covered;
    table.free(freed);
    maybeCheckpoint();
  }

  /* Requires flushLock. */
  private void maybeCheckpoint() {
    long threshold = Math.max(checkpointMinBytes, 2L * table.size() * SlotIndex.ENTRY_BYTES);
    if (logBytes() < threshold) {
      return;
    }
    try {
      checkpointLocked();
    } catch (IOException | RuntimeException e) {
      LOG.warn("block store in {}: index checkpoint failed; the log keeps growing until one"
          + " succeeds", dir, e);
    }
  }

  /* Requires flushLock. */
  private void checkpointLocked() throws IOException {
    checkWritable();
    IndexLog next = IndexLog.create(dir, log.generation() + 1);
    IndexLog old;
    List<ByteBuffer> entries;
    long seq;
    long covered;
    IntStack freed;
    long captured;
    logLock.lock();
    try {
      entries = table.snapshot(SNAPSHOT_CHUNK_BYTES);
      seq = lastSeq;
      covered = lastChangeSeq;
      freed = table.takePending();
      captured = unflushedBytes;
      unflushedBytes = 0;
      old = log;
      log = next;
    } finally {
      logLock.unlock();
    }
    try {
      // The snapshot holds records whose blocks and log bytes may not be durable yet.
      sync(data::force, data.path());
      sync(old::force, old.path());
      IndexCheckpoint.write(dir, next.generation(), seq, entries);
    } catch (IOException | RuntimeException e) {
      undo(freed, captured);
      throw e;
    } finally {
      old.close();
    }
    durableSeq = covered;
    table.free(freed);
    StoreFiles.deleteLogsBefore(dir, next.generation());
  }

  private void undo(IntStack freed, long captured) {
    table.restorePending(freed);
    logLock.lock();
    try {
      unflushedBytes += captured;
    } finally {
      logLock.unlock();
    }
  }

  private long logBytes() {
    logLock.lock();
    try {
      return log.size();
    } finally {
      logLock.unlock();
    }
  }

  /**
   * After a failed fsync the kernel may have dropped the dirty pages it could not write and will not
   * report that again, so a later fsync could succeed while data is lost: the store refuses writes
   * from then on, and reopening re-checks everything since the last durable FLUSH marker.
   */
  private void sync(IoAction action, Path file) throws IOException {
    try {
      action.run();
    } catch (IOException e) {
      syncFailure = new IOException("fsync of " + file + " failed: " + e.getMessage(), e);
      throw e;
    }
  }

  private void checkWritable() {
    IOException failure = syncFailure;
    if (failure != null) {
      throw TorusExceptions.unavailable("block store in " + dir + " refuses writes since an"
          + " earlier " + failure.getMessage() + "; reopen it to recover", failure);
    }
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }
}
