package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Rebuilds a file store's index at start-up from its checkpoint and the logs written since, reading
 * block data only to check puts that no durable FLUSH marker covers. The rules are in the "Recovery"
 * section of {@link FileBlockStore}'s design comment.
 */
final class IndexRecovery {
  /**
   * What recovery found.
   *
   * @param index the recovered index
   * @param lastSeq the highest sequence number in the checkpoint or any replayed record
   * @param firstGeneration the generation the logs start at: the checkpoint's, or 1
   * @param logs the replayed logs by generation; empty if there were none
   * @param logEnd the offset just past the last valid record of the last log
   * @param clean whether the index needs no sealing: there is one log, it holds no record and
   *     nothing but preallocated zeros after its header
   * @param restores the value to restore for each dropped put, newest first
   * @param replayed how many log records were replayed
   */
  record Result(SlotIndex index, long lastSeq, long firstGeneration, SortedMap<Long, Path> logs,
      long logEnd, boolean clean, List<Restore> restores, long replayed) {}

  /**
   * A ref whose unflushed put was dropped, and the packed value it goes back to, or {@link
   * SlotIndex#ABSENT}.
   */
  record Restore(BlockRef ref, long previous) {}

  /** A put that no FLUSH marker covered yet, with the value its ref had before. */
  private record Uncovered(long seq, BlockRef ref, int slot, int crc, long previous) {}

  private final Path dir;
  private final DataFile data;
  private final long capacity;
  private final Deque<Uncovered> uncovered = new ArrayDeque<>();
  private SlotIndex index;
  private long lastSeq;
  private long coveredSeq;
  private long replayed;
  private long logEnd = IndexLog.HEADER_BYTES;

  private IndexRecovery(Path dir, DataFile data, long capacity) {
    this.dir = dir;
    this.data = data;
    this.capacity = capacity;
    this.index = new SlotIndex(0);
  }

  /** Recovers the index of the store in {@code dir}, whose data file has {@code capacity} slots. */
  static Result run(Path dir, DataFile data, long capacity) throws IOException {
    return new IndexRecovery(dir, data, capacity).run();
  }

  private Result run() throws IOException {
    IndexCheckpoint checkpoint = IndexCheckpoint.read(dir);
    long firstGeneration = 1;
    if (checkpoint != null) {
      index = checkpoint.index();
      lastSeq = checkpoint.seq();
      coveredSeq = checkpoint.seq();
      firstGeneration = checkpoint.generation();
    }
    SortedMap<Long, Path> logs = StoreFiles.logs(dir);
    // Logs older than the checkpoint are what a crash left between its rename and their deletion.
    for (Path stale : logs.headMap(firstGeneration).values()) {
      Files.delete(stale);
    }
    logs = logs.tailMap(firstGeneration);
    long expected = firstGeneration;
    boolean cleanEnd = true;
    for (Map.Entry<Long, Path> log : logs.entrySet()) {
      if (log.getKey() != expected++) {
        throw TorusExceptions.corrupted("index log generation " + (expected - 1) + " is missing from "
            + dir + (checkpoint == null ? " and there is no checkpoint" : "")
            + "; the store's index cannot be recovered");
      }
      cleanEnd = replay(log.getValue(), log.getKey());
    }
    List<Restore> restores = verifyUncovered();
    boolean clean = logs.size() <= 1 && replayed == 0 && cleanEnd;
    return new Result(index, lastSeq, firstGeneration, logs, logEnd, clean, restores, replayed);
  }

  /**
   * Applies one log's records; returns whether it ends in preallocated zeros rather than a torn
   * tail. Fails with {@code CORRUPTED} if the damage where replay stopped hides flushed records.
   */
  private boolean replay(Path file, long generation) throws IOException {
    logEnd = IndexLog.HEADER_BYTES;
    try (IndexLogReader reader = IndexLogReader.open(file, generation, lastSeq)) {
      while (reader.next()) {
        replayed++;
        logEnd = reader.validEnd();
        lastSeq = reader.seq();
        switch (reader.type()) {
          case IndexLog.PUT -> applyPut(reader.seq(), reader.ref(), reader.slot(), reader.blockCrc());
          case IndexLog.DELETE -> {
            BlockRef ref = reader.ref();
            index.remove(ref.volumeWord(), ref.inode(), ref.index());
          }
          case IndexLog.FLUSH -> cover(reader.coveredSeq());
          default -> throw new IllegalStateException("unknown record type " + reader.type());
        }
      }
      if (reader.endsCleanly()) {
        return true;
      }
      if (reader.flushedRecordsFollow()) {
        throw TorusExceptions.corrupted("index log " + file + " is damaged at offset "
            + reader.validEnd() + ", before records that a completed flush made durable; the"
            + " store's index cannot be recovered");
      }
      return false;
    }
  }

  private void applyPut(long seq, BlockRef ref, int slot, int crc) {
    if (slot < 0 || slot >= capacity) {
      throw TorusExceptions.corrupted("index log in " + dir + " puts block " + ref + " in slot "
          + slot + ", beyond the capacity of " + capacity + " blocks");
    }
    long previous = index.put(ref.volumeWord(), ref.inode(), ref.index(), SlotIndex.pack(slot, crc));
    if (seq > coveredSeq) {
      uncovered.addLast(new Uncovered(seq, ref, slot, crc, previous));
    }
  }

  /** A durable FLUSH marker: the puts up to {@code seq} had their data on disk. */
  private void cover(long seq) {
    coveredSeq = Math.max(coveredSeq, seq);
    while (!uncovered.isEmpty() && uncovered.peekFirst().seq() <= coveredSeq) {
      uncovered.removeFirst();
    }
  }

  /**
   * Checks the data of the puts after the last FLUSH marker, newest first, and undoes each one
   * whose block did not reach the disk whole, restoring the ref's previous value. Newest first,
   * because an undo restores the value the put replaced, which an older put may have set and must
   * then be checked in turn. A put that a later record already superseded is not visible and needs
   * no check. Returns what was undone.
   */
  private List<Restore> verifyUncovered() throws IOException {
    List<Restore> restores = new ArrayList<>();
    ByteBuf block = Unpooled.directBuffer(data.blockSize(), data.blockSize());
    try {
      for (Iterator<Uncovered> it = uncovered.descendingIterator(); it.hasNext(); ) {
        Uncovered put = it.next();
        BlockRef ref = put.ref();
        long current = index.get(ref.volumeWord(), ref.inode(), ref.index());
        if (current == SlotIndex.ABSENT || SlotIndex.slot(current) != put.slot()
            || matches(block, put)) {
          continue;
        }
        if (put.previous() == SlotIndex.ABSENT) {
          index.remove(ref.volumeWord(), ref.inode(), ref.index());
        } else {
          index.put(ref.volumeWord(), ref.inode(), ref.index(), put.previous());
        }
        restores.add(new Restore(ref, put.previous()));
      }
    } finally {
      block.release();
    }
    uncovered.clear();
    return restores;
  }

  private boolean matches(ByteBuf block, Uncovered put) throws IOException {
    block.clear();
    try {
      data.read(put.slot(), block);
    } catch (EOFException e) {
      return false;
    }
    return Crc32c.of(block) == put.crc();
  }
}
