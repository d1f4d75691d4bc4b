package dev.torus.storage;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link BlockStore}: blocks in preallocated slots of one file, found through a
 * crash-safe index (checkpoint plus append-only log), every block checked against its CRC-32C on
 * read. Opened by {@link BlockStores#openFile}. Thread-safe.
 */
final class FileBlockStore implements BlockStore {
  /*
   * On-disk format: one directory holds
   *   store.meta       the header (StoreHeader): magic, format version, block size, capacity.
   *   blocks.dat       capacity * blockSize bytes (DataFile); slot i at i * blockSize. Sparse.
   *   index-<gen>.log  the index log (IndexLog): PUT ref->slot+CRC, DELETE ref and FLUSH records,
   *                    each with a strictly increasing sequence number and its own CRC-32C.
   *   index.ckpt       the index as of some sequence number (IndexCheckpoint), naming the first
   *                    log generation to replay after it.
   *   store.lock       held with an exclusive OS lock while open (StoreLock).
   * Files are created or replaced under a temporary name, fsynced, renamed, and the directory is
   * fsynced.
   *
   * Write path: a put takes a free slot, writes the block there (no lock held), then, under the
   * log lock, appends the PUT record and publishes ref->slot in the table. The slot the ref held
   * before becomes pending. A delete appends DELETE and unpublishes; its slot becomes pending.
   * Pending slots are not reused until a flush (or checkpoint) has made the record that freed them
   * durable: before then, a crash could bring back a record that points at them.
   *
   * Flush: note the last logged change C and take the pending slots; fdatasync blocks.dat (every
   * record up to C was appended after its block was written, so this covers their blocks); append
   * FLUSH(covered = C); fdatasync the log; only then complete, and free the pending slots. When
   * more than maxUnflushed bytes were put since the last flush, the put that crossed the line
   * flushes before it completes, which bounds both the data at risk and the recovery work.
   *
   * Checkpoint: when the log outgrows max(16 MiB, twice the checkpoint size), after a flush and on
   * close. Create log generation g+1; under the log lock, snapshot the table and switch appends to
   * g+1; fdatasync blocks.dat and log g; write index.ckpt (generation g+1) atomically; delete logs
   * before g+1. A crash at any step leaves a checkpoint plus the logs from its generation on.
   *
   * Recovery: read the checkpoint (none yet: start empty at generation 1); replay the logs from its
   * generation in order. Each log's replay stops at the first record that is incomplete, fails its
   * CRC or does not raise the sequence number: a torn tail ends replay cleanly. Records up to the
   * highest covered sequence number of any FLUSH marker are trusted as they are; blocks are never
   * read for them. The puts after it were never flushed: the block of each one still visible is
   * read and checked against the record's CRC, newest first, and a put whose block does not match
   * is dropped, restoring the ref's previous slot (kept intact, being pending). Damage that two
   * later FLUSH markers prove was once durable fails CORRUPTED instead. If anything was replayed,
   * the result is sealed before the store accepts writes, since it may hold unflushed deletes whose
   * slots are about to be reused: the last log is cut at its last valid record, a record restoring
   * the previous value of each dropped put is appended, the data file and earlier logs are
   * fdatasynced, and a FLUSH marker covering everything is appended and fdatasynced. The slot
   * allocator is rebuilt from the index. A crash during recovery leaves what a new recovery reads
   * the same way.
   *
   * Concurrency: lock order closeLock -> flushLock -> logLock -> table lock (SlotTable).
   *   closeLock (read-write): every operation holds the read side, close() the write side, so close
   *     waits for running operations and later ones fail CLOSED.
   *   flushLock (IndexJournal): one flush or checkpoint at a time, held across its fsyncs.
   *   logLock (IndexJournal): orders appends to the log, assigns sequence numbers and publishes each
   *     record in the table before the next record, so the table always equals a replay of the log.
   *     It is held for a write of a few dozen bytes to the page cache, never across an fsync.
   *   table lock (SlotTable): read side for lookups, write side for a few array updates; no I/O.
   * Block reads and writes hold none of the last three: reads of different blocks, and writes of
   * blocks into their slots, run in parallel with positional FileChannel I/O. A read looks up the
   * slot, reads it, and checks the CRC. A mismatch is reported as CORRUPTED only if no slot was
   * reused meanwhile (SlotTable.reuses()); otherwise the slot may have been freed and rewritten
   * under the read, and the read is retried.
   *
   * Threads: puts, deletes and flushes run on the I/O executor. A read runs on the caller's thread
   * when the page cache holds its block (DataFile.cached, the kernel's mincore), else on the
   * executor.
   *
   * Failure: ENOSPC and other write errors fail that put (its slot is released) or that flush (its
   * pending slots stay pending); nothing acknowledged is touched, and the store keeps working.
   * A failed fsync stops all writes until reopened: see IndexJournal.sync.
   */
  static final long DEFAULT_CHECKPOINT_MIN_BYTES = 16L << 20;
  /** Memory the block pool maps at a time, and so the longest run it hands out. */
  private static final int POOL_CHUNK_BYTES = 1 << 20;
  /**
   * Free block memory the pool keeps mapped for the next writes; wholly free chunks beyond it go
   * back to the system, so a server that had a burst of writes does not keep their memory.
   */
  private static final long POOL_FREE_BYTES = 256L << 20;

  private static final Logger LOG = LoggerFactory.getLogger(FileBlockStore.class);

  private final Path dir;
  private final int blockSize;
  private final Executor ioExecutor;
  private final StoreLock lock;
  private final DataFile data;
  private final SlotTable table;
  /** Slots kept free of data blocks; see {@link BlockStore}, "Room for the map". */
  private final int mapReserve;
  private final IndexJournal journal;
  private final BlockBufferPool pool;
  private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
  // Guarded by closeLock.
  private boolean closed;

  private FileBlockStore(Path dir, int blockSize, Executor ioExecutor, StoreLock lock, DataFile data,
      SlotTable table, IndexJournal journal) {
    this.dir = dir;
    this.blockSize = blockSize;
    this.ioExecutor = ioExecutor;
    this.lock = lock;
    this.data = data;
    this.table = table;
    this.mapReserve = (int) BlockStores.mapReserve(table.capacity());
    this.journal = journal;
    long poolFreeBlocks = Math.max(1, POOL_FREE_BYTES / blockSize);
    this.pool = new BlockBufferPool(blockSize, Math.max(1, POOL_CHUNK_BYTES / blockSize),
        () -> poolFreeBlocks);
  }

  /**
   * Where a volume's written blocks and the NBD server's incoming writes are allocated, and the
   * store's reads: block buffers live from a write to its write-back or commit, a few seconds, and
   * Netty's general-purpose pool spent a quarter of the server's CPU on durable 1 MiB writes
   * finding and zeroing chunks for them (docs/benchmarks.md, run BE). The pool reuses them instead,
   * and hands out runs for large writes as it does for the in-memory store.
   */
  @Override
  public ByteBufAllocator allocator() {
    return pool;
  }

  /**
   * Opens or creates the store; see {@link BlockStores#openFile}. {@code checkpointMinBytes} is the
   * log size below which no checkpoint is written.
   */
  static FileBlockStore open(FileStoreConfig config, Executor ioExecutor, long checkpointMinBytes) {
    Path dir = config.directory();
    if (config.capacityBlocks() > SlotIndex.MAX_ENTRIES) {
      throw TorusExceptions.invalid("a block store holds at most " + SlotIndex.MAX_ENTRIES
          + " blocks; " + config.capacity() + " of " + config.blockSize() + "-byte blocks is "
          + config.capacityBlocks() + ": use a larger block size or several stores");
    }
    long start = System.nanoTime();
    StoreLock lock = null;
    DataFile data = null;
    try {
      Files.createDirectories(dir);
      lock = StoreLock.acquire(dir);
      StoreFiles.deleteTemporaries(dir);
      StoreHeader existing = StoreHeader.read(dir);
      StoreHeader header = StoreHeader.required(dir, existing, config);
      data = DataFile.open(dir, header.blockSize(), header.capacityBlocks());
      if (!header.equals(existing)) {
        header.write(dir);
      }
      IndexRecovery.Result recovered = IndexRecovery.run(dir, data, header.capacityBlocks());
      long recoveredAt = System.nanoTime();
      SlotTable table = new SlotTable(recovered.index(), SlotAllocator.rebuild(
          (int) header.capacityBlocks(), recovered.index(), "the index of " + dir));
      IndexJournal journal = IndexJournal.open(dir, data, table, recovered,
          config.maxUnflushed().bytes(), checkpointMinBytes);
      LOG.info("opened block store in {}: {} of {} blocks used; {} log records replayed; index"
          + " recovered in {} ms, allocator and log ready {} ms later", dir, table.size(),
          header.capacityBlocks(), recovered.replayed(), (recoveredAt - start) / 1_000_000,
          (System.nanoTime() - recoveredAt) / 1_000_000);
      if (!recovered.restores().isEmpty()) {
        LOG.warn("block store in {}: dropped {} unflushed puts whose blocks did not reach the disk;"
            + " those refs keep their previous blocks", dir, recovered.restores().size());
      }
      return new FileBlockStore(dir, header.blockSize(), ioExecutor, lock, data, table, journal);
    } catch (IOException | RuntimeException e) {
      closeQuietly(data, e);
      closeQuietly(lock, e);
      throw e instanceof IOException io ? TorusExceptions.io("opening block store in " + dir, io)
          : (RuntimeException) e;
    }
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return get(ref, null);
  }

  /** One checksum pass serves both checks: the index's CRC and the caller's. */
  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    return get(ref, expectedCrc);
  }

  /**
   * Always on the executor: a volume's 1 MiB read is 32 blocks, read one after another on the
   * caller's thread at two thirds of the speed of reading them on the executor's threads at once.
   */
  @Override
  public CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
    return submit(() -> read(ref, expectedCrc), null);
  }

  /**
   * Reads on the caller's thread when the page cache holds the block: a copy of microseconds,
   * less than handing the read to an I/O thread and back, which took about a quarter of the time of
   * a 4 KiB read at queue depth 1 over NBD and a third of the server's CPU per read at queue depth
   * 16 (docs/benchmarks.md, run BK). A block the disk must supply is read on the executor, so that
   * a caller on an event loop never waits for the disk.
   */
  private CompletableFuture<ByteBuf> get(BlockRef ref, @Nullable Integer expectedCrc) {
    long entry = table.lookup(ref);
    if (entry != SlotIndex.ABSENT && data.cached(SlotIndex.slot(entry))) {
      return inline(() -> read(ref, expectedCrc));
    }
    return submit(() -> read(ref, expectedCrc), null);
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    return put(ref, data, null);
  }

  /** Records the caller's checksum in the index instead of computing it again. */
  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
    return put(ref, data, crc);
  }

  private CompletableFuture<Void> put(BlockRef ref, ByteBuf data, @Nullable Integer crc) {
    if (data.readableBytes() != blockSize) {
      int size = data.readableBytes();
      data.release();
      return CompletableFuture.failedFuture(TorusExceptions.invalid(
          "block " + ref + " has " + size + " bytes, expected " + blockSize));
    }
    return submit(() -> write(ref, data, crc != null ? crc : Crc32c.of(data)), data);
  }

  @Override
  public CompletableFuture<Boolean> hasBlock(BlockRef ref) {
    return inline(() -> table.lookup(ref) != SlotIndex.ABSENT);
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    return submit(() -> {
      if (journal.logDelete(ref)) {
        flushOverLimit();
      }
      return null;
    }, null);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return submit(() -> {
      journal.flush();
      return null;
    }, null);
  }

  @Override
  public CompletableFuture<List<BlockRef>> listBlocks() {
    return inline(table::refs);
  }

  @Override
  public StoreStats stats() {
    return new StoreStats(blockSize, table.capacity(), table.size());
  }

  @Override
  public void close() {
    closeLock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      Exception failure = null;
      try {
        journal.close();
      } catch (IOException | RuntimeException e) {
        failure = e;
      }
      closeQuietly(data, failure);
      closeQuietly(lock, failure);
      pool.close();
      if (failure != null) {
        throw failure instanceof IOException io ? TorusExceptions.io("closing " + this, io)
            : (RuntimeException) failure;
      }
    } finally {
      closeLock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return "block store in " + dir;
  }

  /** Reads a block checked against the index and, if given, against {@code expectedCrc}. */
  private ByteBuf read(BlockRef ref, @Nullable Integer expectedCrc) throws IOException {
    while (true) {
      long reuses = table.reuses();
      long entry = table.lookup(ref);
      if (entry == SlotIndex.ABSENT) {
        throw TorusExceptions.notFound("block " + ref);
      }
      int slot = SlotIndex.slot(entry);
      ByteBuf block = pool.directBuffer(blockSize, blockSize);
      int actual;
      try {
        data.read(slot, block);
        actual = Crc32c.of(block);
      } catch (EOFException e) {
        block.release();
        throw TorusExceptions.corrupted("block " + ref + ": " + e.getMessage()
            + "; the data file was truncated");
      } catch (IOException | RuntimeException e) {
        block.release();
        throw e;
      }
      if (actual == SlotIndex.crc(entry)) {
        if (expectedCrc != null && actual != expectedCrc) {
          block.release();
          throw TorusExceptions.corrupted("block " + ref + " does not match the checksum it was"
              + " written with");
        }
        return block;
      }
      block.release();
      if (table.reuses() == reuses) {
        throw TorusExceptions.corrupted(String.format("block %s in slot %d of %s failed its CRC-32C"
            + " check (expected %08x, found %08x): the data on disk is damaged", ref, slot,
            data.path(), SlotIndex.crc(entry), actual));
      }
    }
  }

  private @Nullable Void write(BlockRef ref, ByteBuf block, int crc) throws IOException {
    int slot = allocate(ref.type() == BlockType.DATA ? mapReserve : 0);
    boolean overLimit;
    try {
      data.write(slot, block);
      overLimit = journal.logPut(ref, slot, crc);
    } catch (IOException | RuntimeException e) {
      table.release(slot);
      throw e;
    }
    if (overLimit) {
      flushOverLimit();
    }
    return null;
  }

  private int allocate(int keepFree) throws IOException {
    int slot = table.allocate(keepFree);
    if (slot < 0) {
      // Deleted and overwritten blocks free their slots only once a flush made that durable.
      journal.flush();
      slot = table.allocate(keepFree);
    }
    if (slot < 0) {
      throw TorusExceptions.outOfSpace(this + " is full: " + table.size() + " of "
          + table.capacity() + " slots of " + blockSize + " bytes hold blocks"
          + (keepFree > 0 ? " and the last " + keepFree + " are kept for map pages" : "")
          + " (garbage collection frees the slots of overwritten and deleted blocks); if it stays"
          + " full, delete blocks or reopen it with a larger capacity");
    }
    return slot;
  }

  /** The change that crossed maxUnflushed is already done, so a failure here is not its own. */
  private void flushOverLimit() {
    try {
      journal.flushIfOverLimit();
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: automatic flush failed; the next flush() reports it", this, e);
    }
  }

  @FunctionalInterface
  private interface IoTask<T> {
    T run() throws IOException;
  }

  /** Runs an I/O task on the executor; releases {@code owned} when it ends, however it ends. */
  private <T> CompletableFuture<T> submit(IoTask<T> task, @Nullable ByteBuf owned) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      ioExecutor.execute(() -> complete(result, task, owned));
    } catch (RejectedExecutionException e) {
      if (owned != null) {
        owned.release();
      }
      result.completeExceptionally(TorusExceptions.unavailable(
          this + ": the I/O executor rejected the task", e));
    }
    return result;
  }

  /** Runs a task on the calling thread: one that does no I/O, or a read the page cache serves. */
  private <T> CompletableFuture<T> inline(IoTask<T> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    complete(result, task, null);
    return result;
  }

  // The future completes only after the close lock and the buffer are released, so a callback may
  // close the store or reuse memory without deadlock or double release.
  private <T> void complete(CompletableFuture<T> result, IoTask<T> task, @Nullable ByteBuf owned) {
    T value = null;
    Throwable failure = null;
    closeLock.readLock().lock();
    try {
      if (closed) {
        throw TorusExceptions.closed(toString());
      }
      value = task.run();
    } catch (IOException e) {
      failure = TorusExceptions.io(toString(), e);
    } catch (Throwable t) {
      failure = TorusExceptions.unwrap(t);
    } finally {
      closeLock.readLock().unlock();
      if (owned != null) {
        owned.release();
      }
    }
    if (failure != null) {
      result.completeExceptionally(failure);
    } else {
      result.complete(value);
    }
  }

  private static void closeQuietly(@Nullable AutoCloseable resource, @Nullable Exception failure) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception e) {
      if (failure != null) {
        failure.addSuppressed(e);
      } else {
        LOG.warn("closing {} failed", resource, e);
      }
    }
  }
}
