package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.BlockBuffers;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open volume's written blocks in memory: counts what they hold, in the volume and in the
 * service's {@link DirtyBudget}, and writes the volume's oldest back to the store, still
 * uncommitted, when the budget is over {@link VolumeConfig#dirtyLimit()}.
 *
 * <p>Blocks are written back in the order they became dirty (a queue that may hold stale entries)
 * until half the limit is left that no write-back is storing yet, or the volume has no more to
 * write back (the rest is other volumes', which their own writes or commits release); each is
 * dropped from memory when its put completes, unless it changed meanwhile. A block is written back
 * at most once per content, so write-back costs one put per block however often the limit is
 * crossed. Puts get a view of the block's buffer, not a copy; the next change copies it first
 * ({@link PendingBlock#writableData()}). At most {@link #MAX_IN_FLIGHT} puts run at once, as a commit's
 * do, and each that completes starts the next while the budget is over the limit: a limit of a
 * gigabyte would otherwise put half of it on the wire at once. Far over the limit (twice), writes
 * wait for the write-backs.
 *
 * <p>After a failed write-back, a pause that doubles with each failure, from {@link #FIRST_PAUSE}
 * to {@link #LONGEST_PAUSE}, and then a single block tries the store again; the rest follow once
 * one succeeds. A full store refuses every put at once, and asking again for every write only
 * burns the CPU that garbage collection needs to make room. Writes far over the limit wait while
 * the store refuses, for {@link VolumeConfig#fullStoreWait()} at most, and then fail: a slow write
 * is better than an error, which makes a file system on the volume give up.
 *
 * <p>Every method is called with the volume's monitor held; completions take it themselves.
 */
final class DirtyBlocks {
  private static final Logger log = LoggerFactory.getLogger(DirtyBlocks.class);
  static final long FIRST_PAUSE = TimeUnit.MILLISECONDS.toNanos(10);
  /** Write-back puts of one volume running at once. */
  static final int MAX_IN_FLIGHT = 64;
  static final long LONGEST_PAUSE = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long LOG_AFTER = TimeUnit.SECONDS.toNanos(1);
  private static final long LOG_EVERY = TimeUnit.SECONDS.toNanos(10);

  private final VolumeHandle volume;
  private final DirtyBudget budget;
  private final long fullStoreWait; // nanos
  private final VolumeCounters counters;
  private final int blockSize;
  /** This volume's share of the budget. */
  private long bytes;
  /** Bytes of this volume's dirty blocks whose write-back put is running. */
  private long writingBack;
  /** After {@link #close()}: the counts are this volume's alone, no longer the budget's. */
  private boolean closed;
  /**
   * In {@link #writeBackOldest}: a put that completes at once leaves starting the next to that
   * loop rather than nesting another, one stack frame per block.
   */
  private boolean startingWriteBacks;
  private final ArrayDeque<PendingBlock> queue = new ArrayDeque<>();
  private @Nullable TorusException error;
  /** Puts failed since the last one that succeeded. */
  private long failedPuts;
  /** After failed puts: no write-back starts before this {@link System#nanoTime()}. */
  private long retryAt;
  private long pause;
  /** When the last failure set {@link #pause}. */
  private long pausedAt = System.nanoTime();
  private long failingSince;
  private boolean runLogged;
  /** When a failure was last logged; far in the past at first. */
  private long loggedAt = System.nanoTime() - LOG_EVERY - 1;
  private CompletableFuture<Void> writeBacks = Futures.done();

  DirtyBlocks(VolumeHandle volume, int blockSize, DirtyBudget budget, Duration fullStoreWait,
      VolumeCounters counters) {
    this.volume = volume;
    this.counters = counters;
    this.budget = budget;
    this.fullStoreWait = fullStoreWait.toNanos();
    this.blockSize = blockSize;
  }

  /** A block got its content in memory. */
  void added() {
    bytes += blockSize;
    if (!closed) {
      budget.add(blockSize);
    }
  }

  /** A block's content left memory. */
  void dropped() {
    bytes -= blockSize;
    if (!closed) {
      budget.add(-blockSize);
    }
  }

  private void writingBack(long delta) {
    writingBack += delta;
    if (!closed) {
      budget.addWritingBack(delta);
    }
  }

  /**
   * The volume closed and let go of its blocks: gives what they held back to the budget. Counts
   * that write-backs still running change later are the volume's alone.
   */
  void close() {
    if (!closed) {
      closed = true;
      budget.add(-bytes);
      budget.addWritingBack(-writingBack);
    }
  }

  long bytes() {
    return bytes;
  }

  /** Queues a block that has content in memory for write-back. */
  void queue(PendingBlock p) {
    if (!p.queued) {
      p.queued = true;
      queue.add(p);
    }
  }

  /**
   * Empties the queue when a commit freezes every pending block: the commit stores them, and a
   * failed one queues them again.
   */
  void clearQueue() {
    for (PendingBlock p; (p = queue.poll()) != null; ) {
      p.queued = false;
    }
  }

  /** Writes back old blocks when over the limit; the result makes the writer wait if far over. */
  CompletableFuture<Void> afterWrite() {
    if (!budget.overLimit()) {
      return Futures.done();
    }
    if (failedPuts == 0) {
      writeBackOldest(Integer.MAX_VALUE);
      if (!budget.farOverLimit()) {
        return Futures.done();
      }
      long deadline = System.nanoTime() + fullStoreWait;
      return writeBacks.thenCompose(v -> {
        synchronized (volume) {
          return waitForStore(deadline, true);
        }
      });
    }
    probeIfDue();
    return !budget.farOverLimit()
        ? Futures.done()
        : waitForStore(System.nanoTime() + fullStoreWait, true);
  }

  /** After failed puts: writes one block back if the pause is over, and starts the next pause. */
  private void probeIfDue() {
    long now = System.nanoTime();
    if (now - retryAt >= 0) {
      retryAt = now + pause; // a failure of this one doubles it
      writeBackOldest(1);
    }
  }

  /**
   * Completes when the store takes blocks again or memory is back under twice the limit; fails
   * with the store's error at {@code deadline}. {@code first}: the write has not waited yet.
   */
  private CompletableFuture<Void> waitForStore(long deadline, boolean first) {
    TorusException failure = error;
    if (failedPuts == 0 || failure == null || !budget.farOverLimit()) {
      return Futures.done();
    }
    if (first) {
      counters.stalledWrites.incrementAndGet();
    }
    try { // closed or fenced meanwhile: nothing will take its blocks any more
      volume.checkWritable();
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
    long now = System.nanoTime();
    if (now - deadline >= 0) {
      counters.failedStalledWrites.incrementAndGet();
      return CompletableFuture.failedFuture(new TorusException(failure.code(), "volume '"
          + volume.info.name() + "' cannot write back data: " + failure.getMessage(), failure));
    }
    long wait = Math.min(Math.max(retryAt - now, FIRST_PAUSE), deadline - now);
    Executor later = CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, volume.executor);
    return CompletableFuture.runAsync(() -> { }, later).thenCompose(v -> {
      synchronized (volume) {
        probeIfDue();
        return waitForStore(deadline, false);
      }
    });
  }

  /** Starts write-backs of up to {@code most} blocks, oldest first. */
  private void writeBackOldest(int most) {
    List<CompletableFuture<Void>> batch = new ArrayList<>();
    long maxInFlight = (long) MAX_IN_FLIGHT * blockSize;
    startingWriteBacks = true;
    // A put that fails at once queues its block again before writeBack returns; looking at each
    // entry once per call keeps a store that refuses everything from spinning this loop.
    for (int entries = queue.size(); entries > 0 && batch.size() < most
        && writingBack < maxInFlight && budget.wantsWriteBack(); entries--) {
      PendingBlock p = queue.poll();
      if (p == null) {
        break;
      }
      p.queued = false;
      // Stale entries: frozen by a commit, emptied, loading, or already being written back.
      if (volume.pending.get(p.index) == p && p.data != null && p.loading == null
          && p.writeBackVersion != p.version) {
        batch.add(writeBack(p));
      }
    }
    startingWriteBacks = false;
    if (!batch.isEmpty()) {
      writeBacks = Futures.allOf(batch);
    }
  }

  /** Completes when the write-backs started so far have, successfully or not. */
  CompletableFuture<Void> settled() {
    return writeBacks.handle((v, e) -> null);
  }

  /**
   * Puts a dirty block under its (new or session-owned) ref and drops it from memory if nobody
   * changed it meanwhile.
   */
  private CompletableFuture<Void> writeBack(PendingBlock p) {
    ByteBuf data = p.data;
    if (isZero(data)) {
      p.releaseData();
      p.hole = true;
      dropped();
      return Futures.done();
    }
    if (p.ref == null) {
      p.ref = volume.writer.allocate(BlockType.DATA);
    }
    long version = p.version;
    int crc = p.dataCrc();
    ByteBuf view = p.shareData();
    BlockRef ref = p.ref;
    p.writeBackVersion = version;
    writingBack(blockSize);
    long started = System.nanoTime();
    CompletableFuture<Void> put =
        p.stored.handle((v, e) -> null).thenCompose(v -> volume.store.putBlock(ref, view, crc));
    p.stored = put;
    return put.handle((v, e) -> {
      synchronized (volume) {
        writingBack(-blockSize);
        if (p.writeBackVersion == version) {
          p.writeBackVersion = -1;
        }
        if (e != null) {
          failed(p, TorusExceptions.unwrap(e), started);
          if (p.data != null && volume.pending.get(p.index) == p) {
            queue(p);
          }
        } else if (p.data == data && p.version == version) {
          storeWorks();
          p.crc = crc;
          if (keptByStore(data)) {
            p.keepStored();
          } else {
            p.releaseData();
          }
          dropped();
        }
        if (e == null && !startingWriteBacks && !closed && budget.overLimit()) {
          writeBackOldest(Integer.MAX_VALUE);
        }
      }
      return null;
    });
  }

  /** Whether the store took {@code data} itself, not a copy: keeping it then costs nothing. */
  private boolean keptByStore(ByteBuf data) {
    return volume.store.keepsBlockBuffers()
        && BlockBuffers.isWholeBlockOf(data, volume.store.allocator(), blockSize);
  }

  /**
   * Counts a failed write-back and pauses write-backs. A run of failures is logged once, when it
   * lasted a while or when the last logged one was long ago: a store on the edge of full fails
   * and recovers many times a second.
   */
  private void failed(PendingBlock p, TorusException failure, long started) {
    error = failure;
    counters.failedWriteBacks.incrementAndGet();
    long now = System.nanoTime();
    if (started - pausedAt >= 0) { // not one of a batch that an earlier failure paused already
      pause = Math.min(Math.max(2 * pause, FIRST_PAUSE), LONGEST_PAUSE);
      pausedAt = now;
      retryAt = now + pause;
    }
    if (failedPuts++ == 0) {
      failingSince = now;
    }
    if (!runLogged && (now - failingSince > LOG_AFTER || now - loggedAt > LOG_EVERY)) {
      runLogged = true;
      loggedAt = now;
      log.warn("write-back of block {} of volume '{}' failed (tried again after a pause of up to"
          + " {} ms and at the next commit; further failures are counted, not logged): {}",
          p.index, volume.info.name(), TimeUnit.NANOSECONDS.toMillis(LONGEST_PAUSE),
          failure.getMessage());
    }
  }

  /**
   * The store took a block (a write-back, or a commit that stored all its blocks): a failure of an
   * earlier write-back no longer makes writes fail.
   */
  void storeWorks() {
    if (failedPuts > 0 && runLogged) {
      log.info("write-back of volume '{}' works again, after {} failed puts", volume.info.name(),
          failedPuts);
    }
    failedPuts = 0;
    runLogged = false;
    error = null;
    pause = 0;
  }

  static boolean isZero(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    for (; i + 8 <= end; i += 8) {
      if (buf.getLong(i) != 0) {
        return false;
      }
    }
    for (; i < end; i++) {
      if (buf.getByte(i) != 0) {
        return false;
      }
    }
    return true;
  }
}
