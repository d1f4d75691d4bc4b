package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory budget of an open volume's written blocks: counts what they hold and writes the
 * oldest back to the store, still uncommitted, when they pass {@link VolumeConfig#dirtyLimit()}.
 *
 * <p>Blocks are written back in the order they became dirty (a queue that may hold stale entries)
 * until half the limit is left that no write-back is storing yet; each is dropped from memory when
 * its put completes, unless it changed meanwhile. A block is written back at most once per
 * content, so write-back costs one put per block however often the limit is crossed. Puts get a
 * view of the block's buffer, not a copy; the next change copies it first ({@link
 * PendingBlock#writableData()}). Far over the limit (twice), writes wait for the write-backs, and
 * fail if the last one failed.
 *
 * <p>Every method is called with the volume's monitor held; completions take it themselves.
 */
final class DirtyBlocks {
  private static final Logger log = LoggerFactory.getLogger(DirtyBlocks.class);

  private final VolumeHandle volume;
  private final long limit;
  private final int blockSize;
  private long bytes;
  /** Bytes of dirty blocks whose write-back put is running. */
  private long writingBack;
  private final ArrayDeque<PendingBlock> queue = new ArrayDeque<>();
  private @Nullable TorusException error;
  /** Puts failed since the last one that succeeded. */
  private long failedPuts;
  private CompletableFuture<Void> writeBacks = Futures.done();

  DirtyBlocks(VolumeHandle volume, int blockSize, long limit) {
    this.volume = volume;
    this.limit = limit;
    this.blockSize = blockSize;
  }

  /** A block got its content in memory. */
  void added() {
    bytes += blockSize;
  }

  /** A block's content left memory. */
  void dropped() {
    bytes -= blockSize;
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
    if (bytes <= limit) {
      return Futures.done();
    }
    if (error != null && bytes > 2 * limit) {
      return CompletableFuture.failedFuture(new TorusException(error.code(),
          "volume '" + volume.info.name() + "' cannot write back data: " + error.getMessage(),
          error));
    }
    List<CompletableFuture<Void>> batch = new ArrayList<>();
    // A put that fails at once queues its block again before writeBack returns; looking at each
    // entry once per call keeps a store that refuses everything from spinning this loop.
    for (int entries = queue.size(); entries > 0 && bytes - writingBack > limit / 2; entries--) {
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
    if (!batch.isEmpty()) {
      writeBacks = Futures.allOf(batch);
    }
    return bytes > 2 * limit ? writeBacks : Futures.done();
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
    int crc = Crc32c.of(data);
    ByteBuf view = p.shareData();
    BlockRef ref = p.ref;
    p.writeBackVersion = version;
    writingBack += blockSize;
    CompletableFuture<Void> put =
        p.stored.handle((v, e) -> null).thenCompose(v -> volume.store.putBlock(ref, view, crc));
    p.stored = put;
    return put.handle((v, e) -> {
      synchronized (volume) {
        writingBack -= blockSize;
        if (p.writeBackVersion == version) {
          p.writeBackVersion = -1;
        }
        if (e != null) {
          TorusException failure = TorusExceptions.unwrap(e);
          // One line per run of failures: a full store fails every put, thousands a second.
          if (failedPuts++ == 0) {
            log.warn("write-back of block {} of volume '{}' failed (retried with later writes and"
                + " at the next commit; further failures are counted, not logged): {}", p.index,
                volume.info.name(), failure.getMessage());
          }
          error = failure;
          if (p.data != null && volume.pending.get(p.index) == p) {
            queue(p);
          }
        } else if (p.data == data && p.version == version) {
          storeWorks();
          p.crc = crc;
          p.releaseData();
          dropped();
        }
      }
      return null;
    });
  }

  /**
   * The store took a block (a write-back, or a commit that stored all its blocks): a failure of an
   * earlier write-back no longer makes writes fail.
   */
  void storeWorks() {
    if (failedPuts > 0) {
      log.info("write-back of volume '{}' works again, after {} failed puts", volume.info.name(),
          failedPuts);
      failedPuts = 0;
    }
    error = null;
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
