package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.BlockBuffers;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeMetadata;
import dev.torus.storage.BlockStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open volume: the byte-level I/O paths over the committed block map plus the blocks changed
 * since the last commit.
 *
 * <p>State: {@code committed} is the tree of the last commit; {@code pending} holds blocks changed
 * since then ({@link PendingBlock}); while a commit runs, the blocks it is committing sit in
 * {@code frozen} and new writes go to a fresh {@code pending}. A read looks in pending, then
 * frozen, then the committed tree. A block first written after a commit gets a new {@link BlockRef}
 * (committed blocks are immutable and may be shared with snapshots and clones); writing it again
 * before the next commit reuses that ref.
 *
 * <p>Concurrency: one monitor guards the maps and every {@link PendingBlock}; it is held only for
 * in-memory work, never across store or metadata I/O. A partial write to a block that is not in
 * memory starts reading the old content and is acknowledged at once: its bytes wait in the
 * block's buffer, and the old content fills the rest when it arrives. Reads, commits and
 * write-backs of that block wait for it. If the old content cannot be read, those acknowledged
 * writes are lost: reads of the block fail until a flush reports it, as a disk reports a failed
 * write-back of its cache ({@link #lostWrites}).
 *
 * <p>Commit ({@link Committer}): freeze pending, store its blocks, apply it to the tree
 * (copy-on-write), store the new pages, sync the store, then compare-and-swap the root in metadata
 * fenced by the write lock. Flushes that arrive during a commit share the next one. A failed
 * commit puts its blocks back into pending (unless rewritten meanwhile) and is reported to every
 * flush that waited on it; a lost lock fences the volume for good. Shortly after a commit
 * landed, the data blocks it replaced are deleted where no snapshot or clone may hold them
 * ({@link SupersededBlocks}).
 *
 * <p>Memory: written blocks stay in memory up to {@link VolumeConfig#dirtyLimit()}; beyond it
 * {@link DirtyBlocks} writes the oldest back to the store, still uncommitted.
 */
final class VolumeHandle implements BlockVolume {
  /** How long a close waits for room in the store without any commit landing blocks. */
  private static final Duration SPACE_PATIENCE = Duration.ofSeconds(20);
  private static final Duration SPACE_RETRY = Duration.ofSeconds(1);
  private static final Duration FLUSH_RETRY_FIRST = Duration.ofMillis(100);
  /** For {@link #writeBlock}: no checksum came with the bytes. */
  private static final long UNKNOWN_CRC = -1;
  private static final Logger log = LoggerFactory.getLogger(VolumeHandle.class);

  final VolumeInfo info;
  final int blockSize;
  final BlockMap map;
  final BlockStore store;
  final VolumeMetadata metadata;
  final @Nullable VolumeWriter writer;
  private final byte[] zeros;
  /** The checksum of a block of zeroes, as an unsigned value. */
  private final long zeroBlockCrc;
  private final Committer committer;
  final SupersededBlocks superseded;
  private final @Nullable ScheduledFuture<?> background;
  final Executor executor;
  private final Duration fullStoreWait;
  /** A reader of a volume (not a snapshot): moves to a newer root when its blocks are gone. */
  private final boolean followsCommits;

  // Guarded by this.
  long size;
  TreeRoot committed;
  long committedRevision;
  HashMap<Long, PendingBlock> pending = new HashMap<>();
  @Nullable HashMap<Long, PendingBlock> frozen;
  boolean resized;
  final DirtyBlocks dirty;
  private @Nullable TorusException fenced;
  private boolean closed;
  /**
   * Why acknowledged writes were lost since the last flush reported such a loss (their blocks'
   * old content could not be read to complete them), or null; the next flush fails with it.
   */
  private @Nullable TorusException lostWrites;
  /** The blocks those writes went to: reads of them fail with {@link #lostWrites} until then. */
  private final HashSet<Long> lostBlocks = new HashSet<>();
  /** Blocks being loaded that hold acknowledged writes ({@link PendingBlock#written}). */
  private int deferredBlocks;
  /**
   * Most {@link #deferredBlocks} at once: half the dirty limit. Beyond it a write waits for its
   * block's old content, so a store that reads slowly slows writers down instead of letting
   * their blocks pile up in memory.
   */
  private final int maxDeferredBlocks;
  private final VolumeCounters counters;

  VolumeHandle(VolumeInfo info, long size, TreeRoot committed, long committedRevision,
      boolean followsCommits, BlockMap map, BlockStore store, VolumeMetadata metadata,
      @Nullable VolumeWriter writer, VolumeConfig config, ScheduledExecutorService scheduler,
      VolumeCounters counters, DirtyBudget dirtyBudget) {
    this.executor = scheduler;
    this.counters = counters;
    this.info = info;
    this.blockSize = store.blockSize();
    this.map = map;
    this.store = store;
    this.metadata = metadata;
    this.writer = writer;
    this.dirty = new DirtyBlocks(this, blockSize, dirtyBudget, config.fullStoreWait(), counters);
    this.fullStoreWait = config.fullStoreWait();
    this.maxDeferredBlocks = (int) Math.max(1, config.dirtyLimit().bytes() / blockSize / 2);
    this.zeros = new byte[blockSize];
    this.zeroBlockCrc = Integer.toUnsignedLong(Crc32c.of(zeros, 0, blockSize));
    this.size = size;
    this.committed = committed;
    this.committedRevision = committedRevision;
    this.followsCommits = followsCommits;
    this.committer = new Committer(this);
    this.superseded = new SupersededBlocks(info, metadata, store, scheduler, config.reclaimDelay(),
        counters);
    if (writer != null) {
      writer.keeper().onLost(() -> fence(TorusExceptions.locked("the write lock on volume '"
          + info.name() + "' was lost with its lease; writes are refused, reopen the volume")));
    }
    long every = config.commitInterval().toMillis();
    this.background = writer == null || every == 0 ? null
        : scheduler.scheduleWithFixedDelay(this::backgroundCommit, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public VolumeInfo info() {
    return info;
  }

  @Override
  public synchronized long size() {
    return size;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public boolean readOnly() {
    return writer == null;
  }

  @Override
  public ByteBufAllocator bufferAllocator() {
    return store.allocator();
  }

  // ---- reads

  @Override
  public CompletableFuture<ByteBuf> read(long offset, int length) {
    try {
      checkRange(offset, length);
      if (length == 0) {
        return CompletableFuture.completedFuture(Unpooled.EMPTY_BUFFER);
      }
      List<CompletableFuture<ByteBuf>> parts = new ArrayList<>();
      boolean several = offset / blockSize != (offset + length - 1) / blockSize;
      forEachBlock(offset, length,
          (index, at, len, pos) -> parts.add(readBlock(index, at, len, several)));
      if (parts.size() == 1) {
        return parts.get(0);
      }
      return Futures.allOf(parts).handle((v, e) -> {
        if (e != null) {
          parts.forEach(p -> p.thenAccept(ByteBuf::release));
          throw TorusExceptions.unwrap(e);
        }
        CompositeByteBuf out = ByteBufAllocator.DEFAULT.compositeBuffer(parts.size());
        for (CompletableFuture<ByteBuf> p : parts) {
          out.addComponent(true, p.join());
        }
        return (ByteBuf) out;
      });
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Reads {@code length} bytes at {@code at} of block {@code index}; {@code inParallel} when the
   * block is one of several read at once ({@link BlockStore#getBlockInParallel}).
   */
  private CompletableFuture<ByteBuf> readBlock(long index, int at, int length, boolean inParallel) {
    CompletableFuture<?> wait;
    TreeRoot root;
    synchronized (this) {
      checkOpen();
      if (lostWrites != null && lostBlocks.contains(index)) {
        return CompletableFuture.failedFuture(lostWrites);
      }
      PendingBlock p = changed(pending.get(index));
      if (p == null && frozen != null) {
        p = changed(frozen.get(index));
      }
      if (p != null) {
        if (p.loading != null) {
          wait = p.loading;
        } else if (p.data != null) {
          return CompletableFuture.completedFuture(p.data.copy(at, length));
        } else if (p.hole || p.ref == null) {
          return CompletableFuture.completedFuture(zeroes(length));
        } else {
          ByteBuf kept = p.keptContent();
          if (kept != null) {
            return CompletableFuture.completedFuture(slice(kept, at, length));
          }
          BlockPointer ptr = new BlockPointer(p.ref, p.crc);
          return p.stored.thenCompose(v -> fetch(index, ptr, inParallel))
              .thenApply(buf -> slice(buf, at, length));
        }
        return wait.thenCompose(v -> readBlock(index, at, length, inParallel));
      }
      root = committed;
    }
    CompletableFuture<ByteBuf> read = map.lookup(root, index).thenCompose(ptr -> ptr == null
        ? CompletableFuture.completedFuture(zeroes(length))
        : fetch(index, ptr, inParallel).thenApply(buf -> slice(buf, at, length)));
    if (writer != null) {
      return read.exceptionallyCompose(e -> {
        TorusException te = TorusExceptions.unwrap(e);
        synchronized (this) {
          if (te.code() != ErrorCode.NOT_FOUND || committed == root) {
            return CompletableFuture.failedFuture(te);
          }
        }
        // A commit since replaced the block and its writer deleted it (SupersededBlocks): the
        // newer tree has what replaced it.
        return readBlock(index, at, length, inParallel);
      });
    }
    if (!followsCommits) {
      return read;
    }
    return read.exceptionallyCompose(e -> {
      TorusException te = TorusExceptions.unwrap(e);
      if (te.code() != ErrorCode.NOT_FOUND) {
        return CompletableFuture.failedFuture(te);
      }
      // The writer superseded the block and the collector deleted it after its grace: what this
      // reader can still read is the volume as it is now.
      return metadata.root(info.id()).thenCompose(newest -> {
        synchronized (this) {
          if (newest.revision() <= committedRevision) {
            throw te;
          }
          committed = TreeRoot.of(newest.value());
          committedRevision = newest.revision();
          size = Math.max(size, newest.value().size());
        }
        return readBlock(index, at, length, inParallel);
      });
    });
  }

  /** Reads a data block and checks it against the checksum its map entry recorded. */
  CompletableFuture<ByteBuf> fetch(long index, BlockPointer ptr, boolean inParallel) {
    CompletableFuture<ByteBuf> read = inParallel
        ? store.getBlockInParallel(ptr.ref(), ptr.crc())
        : store.getBlock(ptr.ref(), ptr.crc());
    return read.exceptionally(e -> {
      TorusException te = TorusExceptions.unwrap(e);
      if (te.code() == ErrorCode.CORRUPTED) {
        throw new TorusException(ErrorCode.CORRUPTED, "block " + index + " of volume '"
            + info.name() + "' does not match the checksum in the volume's map: "
            + te.getMessage(), te);
      }
      throw te;
    });
  }

  private static ByteBuf slice(ByteBuf buf, int at, int length) {
    return buf.slice(buf.readerIndex() + at, length); // shares buf's reference count
  }

  private ByteBuf zeroes(int length) {
    return Unpooled.wrappedBuffer(zeros, 0, length).asReadOnly();
  }

  // ---- writes

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data) {
    return writeData(offset, data, null);
  }

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data, int[] blockCrcs) {
    return writeData(offset, data, blockCrcs);
  }

  private CompletableFuture<Void> writeData(long offset, ByteBuf data, int @Nullable [] blockCrcs) {
    try {
      int length = data.readableBytes();
      checkWritable();
      checkRange(offset, length);
      long firstWhole = (offset + blockSize - 1) / blockSize;
      long wholeBlocks = Math.max(0, (offset + length) / blockSize - firstWhole);
      if (blockCrcs != null && blockCrcs.length != wholeBlocks) {
        throw TorusExceptions.invalid(blockCrcs.length + " block checksums for a write of "
            + length + " bytes at " + offset + ", which holds " + wholeBlocks + " whole blocks");
      }
      List<CompletableFuture<Void>> parts = new ArrayList<>();
      int base = data.readerIndex();
      int[] wholeSeen = {0};
      forEachBlock(offset, length, (index, at, len, pos) -> {
        long crc = blockCrcs != null && len == blockSize
            ? Integer.toUnsignedLong(blockCrcs[wholeSeen[0]++])
            : UNKNOWN_CRC;
        parts.add(writeBlock(index, at, data, base + pos, len, crc));
      });
      return Futures.allOf(parts).whenComplete((v, e) -> data.release()).thenCompose(v -> afterWrite());
    } catch (RuntimeException e) {
      data.release();
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Applies {@code len} bytes of {@code src} at {@code at} in block {@code index}; {@code crc} is
   * the checksum of a whole block's bytes as an unsigned value, or {@link #UNKNOWN_CRC}.
   */
  private CompletableFuture<Void> writeBlock(
      long index, int at, @Nullable ByteBuf src, int srcIndex, int len, long crc) {
    synchronized (this) {
      checkWritable();
      PendingBlock p = pending.get(index);
      boolean whole = at == 0 && len == blockSize;
      CompletableFuture<Void> load = null;
      if (p == null) {
        p = new PendingBlock(index);
        pending.put(index, p);
        if (!whole) {
          load = startLoad(p, base(index));
        }
      } else if (p.loading == null && p.data == null && !p.hole && !whole && p.ref != null) {
        BlockPointer stored = new BlockPointer(p.ref, p.crc);
        ByteBuf own = p.keptContent();
        load = startLoad(p, p.stored.thenCompose(v -> fetchOldContent(index, stored, own)));
      }
      if (load != null && load.isCompletedExceptionally()) {
        return load; // the old content is unreadable and nothing was acknowledged yet
      }
      if (whole) {
        lostBlocks.remove(index); // every byte of it is known again
      }
      if (p.loading != null) {
        if (p.written == null && deferredBlocks >= maxDeferredBlocks) {
          return p.loading.thenCompose(v -> writeBlock(index, at, src, srcIndex, len, crc));
        }
        writeWhileLoading(p, at, src, srcIndex, len);
        return Futures.done();
      }
      ByteBuf kept = whole && src != null ? wholeBlockBuffer(src, srcIndex) : null;
      if (kept != null) {
        if (p.data == null) {
          dirty.added();
        } else {
          p.releaseData(); // a put that still stores the old content holds its own reference
        }
        p.data = kept;
      } else if (p.data == null) {
        p.data = store.allocator().directBuffer(blockSize, blockSize);
        if (whole && src != null) {
          p.data.writerIndex(blockSize); // about to be overwritten entirely
        } else {
          p.data.writeZero(blockSize);
        }
        dirty.added();
      }
      dirty.queue(p);
      p.releaseKept();
      p.hole = false;
      p.version++;
      if (kept == null) {
        copyInto(p.writableData(), at, src, srcIndex, len);
      }
      if (whole && src != null && crc != UNKNOWN_CRC) {
        p.dataCrc((int) crc);
      } else if (whole && src != null) {
        p.dataCrc();
      }
      return Futures.done();
    }
  }

  /**
   * Applies a write to a block whose old content is still being read: the bytes go into the
   * block's buffer now and {@link PendingBlock#written} records where; the old content fills the
   * rest when it arrives ({@link #startLoad}). Called with the monitor held.
   */
  private void writeWhileLoading(PendingBlock p, int at, @Nullable ByteBuf src, int srcIndex, int len) {
    if (p.data == null) {
      p.data = store.allocator().directBuffer(blockSize, blockSize).writerIndex(blockSize);
      p.written = new WrittenRanges();
      deferredBlocks++;
      dirty.added();
    }
    // Nothing shares the buffer yet: write-backs and commits wait for the load.
    copyInto(p.data, at, src, srcIndex, len);
    p.written.add(at, at + len);
    p.releaseKept();
    p.version++;
  }

  /** Puts {@code len} bytes of {@code src} (null: zeroes) at {@code at} in {@code block}. */
  private static void copyInto(ByteBuf block, int at, @Nullable ByteBuf src, int srcIndex, int len) {
    if (src == null) {
      block.setZero(at, len);
    } else {
      // The source pulls, not the block: a payload gathered from the network is a composite,
      // which pushed into a buffer would first be merged into a temporary array.
      src.getBytes(srcIndex, block, at, len);
    }
  }

  /**
   * The buffer of {@code src} that holds exactly the whole block starting at {@code index}, retained,
   * if the store allocated it for one block ({@link #bufferAllocator()}): the block keeps it
   * instead of a copy. Null when the block's bytes are anywhere else.
   */
  private @Nullable ByteBuf wholeBlockBuffer(ByteBuf src, int index) {
    if (!(src instanceof CompositeByteBuf composite)) {
      return null;
    }
    int component = composite.toComponentIndex(index);
    if (composite.toByteIndex(component) != index) {
      return null;
    }
    ByteBuf part = composite.component(component);
    return BlockBuffers.isWholeBlockOf(part, store.allocator(), blockSize) ? part.retain() : null;
  }

  /**
   * The content block {@code index} had before the current pending generation: from the frozen
   * commit if it has the block, else from the committed tree. Called with the monitor held.
   */
  private CompletableFuture<OldContent> base(long index) {
    PendingBlock f = frozen == null ? null : changed(frozen.get(index));
    if (f != null) {
      if (f.loading != null) {
        return f.loading.thenCompose(v -> {
          synchronized (this) {
            return base(index);
          }
        });
      }
      if (f.data != null) {
        return CompletableFuture.completedFuture(new OldContent(f.data.copy(), UNKNOWN_CRC));
      }
      if (f.hole || f.ref == null) {
        return CompletableFuture.completedFuture(new OldContent(null, zeroBlockCrc));
      }
      BlockPointer ptr = new BlockPointer(f.ref, f.crc);
      ByteBuf kept = f.keptContent();
      return f.stored.thenCompose(v -> fetchOldContent(index, ptr, kept));
    }
    return map.lookup(committed, index).thenCompose(ptr -> ptr == null
        ? CompletableFuture.completedFuture(new OldContent(null, zeroBlockCrc))
        : fetchOldContent(index, ptr, null));
  }

  /**
   * Reads a block's old content for a partial write: {@code kept}, the block's own copy of what is
   * stored under {@code ptr} ({@link PendingBlock#keptContent()}), if there is one, else from the
   * store. Called on a Netty event loop (the NBD server's), it runs after the work at hand, so
   * that the write's reply goes out before the read and the merge even when the store answers at
   * once (the in-memory one: 4 KiB random writes at queue depth 1 went 7 to 9% faster); elsewhere,
   * and on a loop that is shutting down, at once. Netty keeps the calling thread's loop in {@link
   * ThreadExecutorMap}.
   */
  private CompletableFuture<OldContent> fetchOldContent(
      long index, BlockPointer ptr, @Nullable ByteBuf kept) {
    Supplier<CompletableFuture<ByteBuf>> read =
        () -> kept != null ? CompletableFuture.completedFuture(kept) : fetch(index, ptr, false);
    EventExecutor loop = ThreadExecutorMap.currentExecutor();
    CompletableFuture<ByteBuf> data = null;
    if (loop != null && !loop.isShuttingDown()) {
      try {
        data = CompletableFuture.supplyAsync(read, loop).thenCompose(f -> f);
      } catch (RejectedExecutionException e) {
        // shut down meanwhile: read here
      }
    }
    if (data == null) {
      data = read.get();
    }
    // The store checked the bytes against this checksum, or the volume took it from them.
    return data.thenApply(buf -> new OldContent(buf, Integer.toUnsignedLong(ptr.crc())));
  }

  /**
   * A block's content before a partial write: its bytes (null: zeroes) and their checksum as an
   * unsigned value, or {@link #UNKNOWN_CRC}.
   */
  private record OldContent(@Nullable ByteBuf data, long crc) {}

  /**
   * Fills {@code p.data} from {@code content} (null = zeroes), around what writes put there
   * meanwhile; operations on the block but writes wait on the returned future. A failed load
   * drops those writes ({@link #loseWrites}) and removes the block from pending if nothing else
   * filled it.
   */
  private CompletableFuture<Void> startLoad(PendingBlock p, CompletableFuture<OldContent> content) {
    CompletableFuture<Void> load = new CompletableFuture<>();
    p.loading = load;
    content.whenComplete((old, error) -> {
      ByteBuf buf = old == null ? null : old.data();
      synchronized (this) {
        p.loading = null;
        if (p.written != null) {
          deferredBlocks--;
        }
        if (closed) {
          p.written = null; // closing let go of the volume's blocks; nothing to fill any more
        } else if (error != null) {
          if (p.written != null) {
            loseWrites(p, TorusExceptions.unwrap(error));
          }
          if (p.unchanged() && pending.get(p.index) == p) {
            pending.remove(p.index);
          }
        } else if (p.written != null) {
          fillGaps(p, old);
          dirty.queue(p);
        } else if (p.data == null) {
          p.data = store.allocator().directBuffer(blockSize, blockSize);
          if (buf == null) {
            p.data.writeZero(blockSize);
          } else {
            p.data.writeBytes(buf, buf.readerIndex(), blockSize);
          }
          dirty.added();
          dirty.queue(p);
        }
      }
      if (buf != null) {
        buf.release();
      }
      if (error != null) {
        load.completeExceptionally(TorusExceptions.unwrap(error));
      } else {
        load.complete(null);
      }
    });
    return load;
  }

  /**
   * Copies the old content into the bytes of {@code p.data} no write filled, and takes the
   * checksum of the result while it is in the CPU's caches: a write-back comes only after up to
   * the dirty limit of other writes, when checksumming means reading the block from memory again.
   */
  private void fillGaps(PendingBlock p, OldContent old) {
    ByteBuf before = old.data();
    int[] gaps = p.written.gaps(blockSize);
    for (int i = 0; i < gaps.length; i += 2) {
      int from = gaps[i];
      int length = gaps[i + 1] - from;
      if (before == null) {
        p.data.setZero(from, length);
      } else {
        p.data.setBytes(from, before, before.readerIndex() + from, length);
      }
    }
    int[] written = p.written.ranges();
    p.written = null;
    if (old.crc() == UNKNOWN_CRC || 2 * WrittenRanges.bytes(written) >= blockSize) {
      p.dataCrc();
      return;
    }
    // Mostly old bytes, whose checksum is known: adjust it for the written ranges alone.
    int crc = (int) old.crc();
    for (int i = 0; i < written.length; i += 2) {
      int from = written[i];
      int length = written[i + 1] - from;
      int replaced = before == null
          ? Crc32c.of(zeros, 0, length)
          : Crc32c.of(before, before.readerIndex() + from, length);
      crc = Crc32c.afterReplacing(crc, replaced, Crc32c.of(p.data, from, length),
          blockSize - written[i + 1]);
    }
    p.derivedDataCrc(crc);
  }

  /**
   * The old content of a block with acknowledged writes could not be read: the block goes back
   * to what it was before them (what is stored under its ref, or its committed content), reads of
   * it fail, and the next flush reports the loss. Called with the monitor held.
   */
  private void loseWrites(PendingBlock p, TorusException cause) {
    p.releaseData();
    p.written = null;
    p.version++;
    dirty.dropped();
    lostBlocks.add(p.index);
    counters.lostWriteBlocks.incrementAndGet();
    if (lostWrites == null) {
      lostWrites = new TorusException(cause.code(), "volume '" + info.name() + "': writes to block "
          + p.index + " were acknowledged, but its old content could not be read to complete the"
          + " block, so they are lost (reads of such blocks fail until a flush reports it): "
          + cause.getMessage(), cause);
      log.error("{}", lostWrites.getMessage());
    }
  }

  /** Fails with the loss of acknowledged writes not reported yet, once, and forgets it. */
  private synchronized void reportLostWrites(@Nullable Throwable commitFailure) {
    TorusException lost = lostWrites;
    if (lost == null) {
      if (commitFailure != null) {
        throw TorusExceptions.unwrap(commitFailure);
      }
      return;
    }
    lostWrites = null;
    lostBlocks.clear();
    if (commitFailure != null) {
      lost.addSuppressed(TorusExceptions.unwrap(commitFailure));
    }
    throw lost;
  }

  /** Writes back old blocks when over the memory limit; pushes back if far over it. */
  private synchronized CompletableFuture<Void> afterWrite() {
    return dirty.afterWrite();
  }

  @Override
  public CompletableFuture<Void> trim(long offset, long length) {
    return writeZeroes(offset, length);
  }

  @Override
  public CompletableFuture<Void> writeZeroes(long offset, long length) {
    try {
      checkWritable();
      checkRange(offset, length);
      List<CompletableFuture<Void>> parts = new ArrayList<>();
      forEachBlock(offset, length, (index, at, len, pos) -> parts.add(
          at == 0 && len == blockSize
              ? punch(index)
              : writeBlock(index, at, null, 0, len, UNKNOWN_CRC)));
      return Futures.allOf(parts);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Makes a whole block a hole. */
  private CompletableFuture<Void> punch(long index) {
    CompletableFuture<Void> wait;
    synchronized (this) {
      checkWritable();
      PendingBlock p = pending.computeIfAbsent(index, PendingBlock::new);
      if (p.loading == null) {
        if (p.data != null) {
          dirty.dropped();
        }
        p.releaseData();
        p.hole = true;
        p.version++;
        lostBlocks.remove(index);
        return Futures.done();
      }
      wait = p.loading;
    }
    return wait.thenCompose(v -> punch(index));
  }

  // ---- allocation

  @Override
  public CompletableFuture<List<Extent>> allocation(long offset, long length) {
    try {
      checkRange(offset, length);
      if (length == 0) {
        return CompletableFuture.completedFuture(List.of());
      }
      long first = offset / blockSize;
      long last = (offset + length - 1) / blockSize;
      TreeRoot root;
      TreeMap<Long, Boolean> overlay = new TreeMap<>();
      synchronized (this) {
        root = committed;
        if (frozen != null) {
          overlay(frozen, first, last, overlay);
        }
        overlay(pending, first, last, overlay);
      }
      return map.runs(root, first, last + 1).thenApply(runs -> Run.toExtents(
          Run.overlay(runs, overlay, first, last + 1), blockSize, offset, offset + length));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Records which of {@code blocks} from {@code first} to {@code last} are holes now; unchanged
   * ones keep what is under them. Looks up each index of a short range, else scans the blocks.
   */
  private static void overlay(Map<Long, PendingBlock> blocks, long first, long last,
      Map<Long, Boolean> overlay) {
    if (last - first < blocks.size()) {
      for (long i = first; i <= last; i++) {
        PendingBlock p = blocks.get(i);
        if (p != null && !p.unchanged()) {
          overlay.put(i, p.hole);
        }
      }
      return;
    }
    blocks.forEach((i, p) -> {
      if (i >= first && i <= last && !p.unchanged()) {
        overlay.put(i, p.hole);
      }
    });
  }

  /** {@code p}, or null if it stands for no change ({@link PendingBlock#unchanged()}). */
  private static @Nullable PendingBlock changed(@Nullable PendingBlock p) {
    return p == null || p.unchanged() ? null : p;
  }

  // ---- commit, resize, snapshot

  @Override
  public CompletableFuture<Void> flush() {
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(TorusExceptions.closed("volume '" + info.name() + "'"));
      }
      if (writer == null) {
        return Futures.done();
      }
      if (fenced != null) {
        return CompletableFuture.failedFuture(fenced);
      }
    }
    return commitWaitingForRoom(System.nanoTime() + fullStoreWait.toNanos(), FLUSH_RETRY_FIRST)
        .handle((v, e) -> {
          reportLostWrites(e);
          return null;
        });
  }

  /**
   * Commits; while the store is out of room, tries again until {@code deadline}, every {@code
   * retry} doubled up to {@link #SPACE_RETRY}. A full store is mostly a passing state: each try
   * lands what fits (see {@link Committer}), and collection frees what earlier commits superseded
   * within seconds. A flush that failed instead would make a file system on the volume give up.
   */
  private CompletableFuture<Void> commitWaitingForRoom(long deadline, Duration retry) {
    synchronized (this) {
      if (closed) { // its close committed what it could, or said what was lost
        return CompletableFuture.failedFuture(TorusExceptions.closed("volume '" + info.name()
            + "' (closed while its flush waited for room in the store)"));
      }
    }
    return committer.commit().handle((v, e) -> {
      if (e == null) {
        return Futures.done();
      }
      TorusException failure = TorusExceptions.unwrap(e);
      long left = deadline - System.nanoTime();
      if (failure.code() != ErrorCode.OUT_OF_SPACE || isFenced()) {
        return CompletableFuture.<Void>failedFuture(failure);
      }
      if (left <= 0) {
        boolean retried = retry.compareTo(FLUSH_RETRY_FIRST) > 0;
        return CompletableFuture.<Void>failedFuture(!retried ? failure
            : new TorusException(failure.code(), "volume '" + info.name() + "': no room in the"
                + " store within " + fullStoreWait.toMillis() + " ms: " + failure.getMessage(),
                failure));
      }
      Executor later = CompletableFuture.delayedExecutor(
          Math.min(retry.toNanos(), left), TimeUnit.NANOSECONDS, executor);
      Duration next = retry.multipliedBy(2).compareTo(SPACE_RETRY) < 0
          ? retry.multipliedBy(2)
          : SPACE_RETRY;
      return CompletableFuture.runAsync(() -> { }, later)
          .thenCompose(x -> commitWaitingForRoom(deadline, next));
    }).thenCompose(f -> f);
  }

  @Override
  public CompletableFuture<Void> resize(long newSize) {
    synchronized (this) {
      try {
        checkWritable();
      } catch (TorusException e) {
        return CompletableFuture.failedFuture(e);
      }
      if (newSize < size) {
        return CompletableFuture.failedFuture(TorusExceptions.invalid("volume '" + info.name()
            + "' is " + size + " bytes; shrinking to " + newSize + " would destroy data and is not"
            + " supported"));
      }
      MapGeometry.checkSize(newSize);
      if (newSize == size) {
        return Futures.done();
      }
      size = newSize;
      resized = true;
    }
    return flush();
  }

  @Override
  public CompletableFuture<SnapshotInfo> snapshot(String name) {
    return flush().thenCompose(v -> metadata.createSnapshot(info.id(), name));
  }

  private void backgroundCommit() {
    boolean due;
    synchronized (this) {
      due = !closed && fenced == null && (!pending.isEmpty() || resized);
    }
    if (due) {
      committer.commit().whenComplete((v, e) -> {
        if (e != null) {
          log.warn("background commit of volume '{}' failed: {}", info.name(),
              TorusExceptions.unwrap(e).getMessage());
        }
      });
    }
  }

  /** Refuses all further writes and commits; the first reason sticks. */
  synchronized void fence(TorusException reason) {
    if (fenced == null) {
      fenced = reason;
      log.error("volume '{}' fenced: {}", info.name(), reason.getMessage());
    }
  }

  /** Whether a lost lock or a failed commit stopped this volume from writing for good. */
  synchronized boolean isFenced() {
    return fenced != null;
  }

  /** The failure every flush of a fenced volume gets. */
  synchronized CompletableFuture<Void> flushRefusal() {
    return CompletableFuture.failedFuture(fenced);
  }

  synchronized long dirtyBytes() {
    return dirty.bytes();
  }

  // ---- lifecycle and checks

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
    }
    if (background != null) {
      background.cancel(false);
    }
    TorusException failure = null;
    if (writer != null) {
      if (!isFenced()) {
        failure = commitBeforeClose();
      }
      Futures.join(writeBacksDone());
    }
    superseded.close();
    TorusException lost;
    synchronized (this) {
      closed = true;
      lost = lostWrites;
      pending.values().forEach(PendingBlock::releaseData);
      pending.clear();
      dirty.close();
      if (frozen != null) { // a commit that never finished may still store their data
        frozen.values().forEach(PendingBlock::releaseKept);
      }
    }
    if (writer != null) {
      writer.close(metadata);
    }
    if (failure != null) {
      TorusException closing = new TorusException(failure.code(), "closing volume '" + info.name()
          + "': the last commit failed, writes since the previous commit are lost: "
          + failure.getMessage(), failure);
      if (lost != null) {
        closing.addSuppressed(lost);
      }
      throw closing;
    }
    if (lost != null) {
      throw lost;
    }
  }

  /**
   * The last commit, or why it failed. A store out of room fails it while garbage collection has
   * yet to free what earlier commits superseded, and each try lands what fits (see {@link
   * Committer}), so it is tried again as long as tries keep landing blocks, or did so within
   * {@link #SPACE_PATIENCE}: otherwise the writes since the previous commit would be lost.
   */
  private @Nullable TorusException commitBeforeClose() {
    long progressAt = System.nanoTime();
    int left = Integer.MAX_VALUE;
    while (true) {
      try {
        Futures.join(committer.commit());
        return null;
      } catch (TorusException e) {
        int now = pendingBlocks();
        if (now < left) {
          left = now;
          progressAt = System.nanoTime();
        }
        if (e.code() != ErrorCode.OUT_OF_SPACE
            || System.nanoTime() - progressAt > SPACE_PATIENCE.toNanos()) {
          return e;
        }
        log.info("closing volume '{}': {} blocks wait for room in the store ({})", info.name(),
            now, e.getMessage());
        try {
          Thread.sleep(SPACE_RETRY.toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return e;
        }
      }
    }
  }

  private synchronized int pendingBlocks() {
    return pending.size();
  }

  /** Completes when the write-backs started so far have, successfully or not. */
  synchronized CompletableFuture<Void> writeBacksDone() {
    return dirty.settled();
  }

  private void checkOpen() {
    if (closed) {
      throw TorusExceptions.closed("volume '" + info.name() + "'");
    }
  }

  /** Throws unless writes are allowed: open, writable, not fenced, lock valid. */
  synchronized void checkWritable() {
    checkOpen();
    if (writer == null) {
      throw TorusExceptions.readOnly("volume '" + info.name() + "'");
    }
    if (fenced != null) {
      throw fenced;
    }
    writer.keeper().checkValid();
  }

  private synchronized void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw new TorusException(ErrorCode.INVALID_ARGUMENT, "range " + offset + "+" + length + " is outside volume '" + info.name() + "' (" + size
              + " bytes)");
    }
  }

  /** The blocks a byte range touches. */
  private interface BlockVisitor {
    void visit(long index, int at, int length, int position);
  }

  private void forEachBlock(long offset, long length, BlockVisitor visitor) {
    long pos = 0;
    while (pos < length) {
      long abs = offset + pos;
      long index = abs / blockSize;
      int at = (int) (abs % blockSize);
      int len = (int) Math.min(blockSize - at, length - pos);
      visitor.visit(index, at, len, (int) Math.min(pos, Integer.MAX_VALUE));
      pos += len;
    }
  }

  @Override
  public String toString() {
    return "volume '" + info.name() + "' (" + (writer == null ? "read-only" : "writable") + ")";
  }
}
