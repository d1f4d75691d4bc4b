package dev.torus.storage;

import static dev.torus.storage.BlockStoreContract.BLOCK_SIZE;
import static dev.torus.storage.BlockStoreContract.assertCode;
import static dev.torus.storage.BlockStoreContract.ref;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@link BlockStoreContract} and the durability, recovery and failure behaviour of the file store. */
final class FileBlockStoreTest implements BlockStoreContract {
  @TempDir Path tmp;
  private final ExecutorService io = Executors.newFixedThreadPool(4);
  private int stores;

  @AfterEach
  void stopExecutor() {
    io.shutdownNow();
  }

  @Override
  public BlockStore newStore(int blockSize, long capacityBlocks) {
    return open(tmp.resolve("store-" + stores++), blockSize, capacityBlocks);
  }

  private BlockStore open(Path dir, int blockSize, long capacityBlocks) {
    return BlockStores.openFile(
        FileStoreConfig.of(dir, blockSize, DataSize.ofBytes(capacityBlocks * blockSize)), io);
  }

  private BlockStore open(Path dir, long capacityBlocks) {
    return open(dir, BLOCK_SIZE, capacityBlocks);
  }

  @Test
  void reusesBlockMemoryForReadsAndForTheBlocksWrittenToIt() {
    try (BlockStore store = newStore(BLOCK_SIZE, 8)) {
      BlockBufferPool pool = (BlockBufferPool) store.allocator();
      ByteBuf written = store.allocator().directBuffer(BLOCK_SIZE, BLOCK_SIZE)
          .writeBytes(Blocks.random(BLOCK_SIZE, 1));
      Futures.join(store.putBlock(ref(1), written.retainedDuplicate()));
      written.release();
      int free = pool.freeBuffers();
      assertThat(free).as("a block written and given up goes back to the pool").isPositive();

      ByteBuf read = Futures.join(store.getBlock(ref(1)));
      assertThat(pool.freeBuffers()).as("a read takes its buffer from the pool").isEqualTo(free - 1);
      assertThat(ByteBufUtil.getBytes(read)).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      read.release();
      assertThat(pool.freeBuffers()).as("and gives it back when released").isEqualTo(free);
    }
  }

  @Test
  void readsWhatThePageCacheHoldsOnTheCallersThreadAndTheRestOnTheExecutor() throws Exception {
    Assumptions.assumeFalse(Files.getFileStore(tmp).type().equals("tmpfs"),
        "a tmpfs holds every page in memory, so there is nothing to drop from the page cache");
    Path dir = tmp.resolve("s");
    AtomicInteger tasks = new AtomicInteger();
    Executor counting = task -> {
      tasks.incrementAndGet();
      io.execute(task);
    };
    try (BlockStore store = BlockStores.openFile(
        FileStoreConfig.of(dir, BLOCK_SIZE, DataSize.ofBytes(8L * BLOCK_SIZE)), counting)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      Futures.join(store.flush()); // the page cache drops only pages already on the disk
      int before = tasks.get();

      CompletableFuture<ByteBuf> cached = store.getBlock(ref(1));
      assertThat(cached).as("read before getBlock returned").isDone();
      assertThat(tasks.get()).as("no I/O task for a block in the page cache").isEqualTo(before);
      assertThat(Blocks.drain(cached.join())).isEqualTo(Blocks.random(BLOCK_SIZE, 1));

      int crc = Crc32c.of(Blocks.random(BLOCK_SIZE, 1), 0, BLOCK_SIZE);
      assertThat(Blocks.drain(Futures.join(store.getBlockInParallel(ref(1), crc))))
          .isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      assertThat(tasks.get()).as("one of several blocks read at once is read on the executor")
          .isEqualTo(before + 1);

      dropFromPageCache(dir.resolve(StoreFiles.DATA));
      assertThat(Blocks.read(store, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      assertThat(tasks.get()).as("a block the disk must supply is read on the executor")
          .isEqualTo(before + 2);
    }
  }

  /** Asks the kernel to drop a file's clean pages (coreutils' dd: posix_fadvise DONTNEED). */
  private static void dropFromPageCache(Path file) throws IOException, InterruptedException {
    Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0")
        .redirectErrorStream(true).start();
    String out = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(dd.waitFor()).as("dd: %s", out).isZero();
  }

  @Test
  void blocksSurviveCloseAndReopenWithoutAnExplicitFlush() {
    Path dir = tmp.resolve("s");
    try (BlockStore store = open(dir, 64)) {
      for (int i = 0; i < 50; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      for (int i = 0; i < 50; i += 5) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, 100 + i)));
      }
      for (int i = 1; i < 50; i += 7) {
        Futures.join(store.deleteBlock(ref(i)));
      }
    }
    try (BlockStore store = open(dir, 64)) {
      for (int i = 0; i < 50; i++) {
        if (i % 7 == 1) {
          assertCode(store.getBlock(ref(i)), ErrorCode.NOT_FOUND);
        } else {
          assertThat(Blocks.read(store, ref(i))).as("block %d", i)
              .isEqualTo(Blocks.random(BLOCK_SIZE, i % 5 == 0 ? 100 + i : i));
        }
      }
      assertThat(store.stats().usedBlocks()).isEqualTo(50 - 7);
    }
  }

  @Test
  void reopenWithAnotherBlockSizeFailsWithAClearMessage() {
    Path dir = tmp.resolve("s");
    open(dir, 8).close();
    assertFails(() -> open(dir, 2 * BLOCK_SIZE, 8), ErrorCode.INVALID_ARGUMENT,
        "4096-byte blocks, not 8192");
  }

  @Test
  void reopenWithALargerCapacityGrowsTheStoreAndSmallerIsRefused() {
    Path dir = tmp.resolve("s");
    try (BlockStore store = open(dir, 4)) {
      for (int i = 0; i < 4; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
    }
    try (BlockStore store = open(dir, 10)) {
      assertThat(store.stats()).isEqualTo(new StoreStats(BLOCK_SIZE, 10, 4));
      for (int i = 4; i < 10; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      assertFails(() -> Futures.join(store.putBlock(ref(10), Blocks.buf(BLOCK_SIZE, 10))),
          ErrorCode.OUT_OF_SPACE, "is full", "garbage collection frees",
          "delete blocks or reopen it with a larger capacity");
    }
    assertFails(() -> open(dir, 9), ErrorCode.INVALID_ARGUMENT, "cannot shrink");
    try (BlockStore store = open(dir, 10)) {
      for (int i = 0; i < 10; i++) {
        assertThat(Blocks.read(store, ref(i))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
      }
    }
  }

  @Test
  void damagedBlockFailsCorruptedWhileOthersStayReadableAndTheStoreWritable() throws IOException {
    Path dir = tmp.resolve("s");
    try (BlockStore store = open(dir, 8)) {
      for (int i = 0; i < 3; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      Futures.join(store.flush());
      // A fresh store fills slots in order, so ref(1) is in slot 1.
      flipByte(dir.resolve(StoreFiles.DATA), BLOCK_SIZE + 100);

      assertFails(() -> Futures.join(store.getBlock(ref(1))), ErrorCode.CORRUPTED,
          ref(1).toString(), dir.resolve(StoreFiles.DATA).toString());
      assertThat(Blocks.read(store, ref(0))).isEqualTo(Blocks.random(BLOCK_SIZE, 0));
      assertThat(Blocks.read(store, ref(2))).isEqualTo(Blocks.random(BLOCK_SIZE, 2));
      Futures.join(store.putBlock(ref(3), Blocks.buf(BLOCK_SIZE, 3)));
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 11)));
      assertThat(Blocks.read(store, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 11));
      assertThat(Blocks.read(store, ref(3))).isEqualTo(Blocks.random(BLOCK_SIZE, 3));
    }
  }

  @Test
  void startupTrustsFlushedRecordsWithoutReadingTheirBlocks() throws IOException {
    Path dir = tmp.resolve("s");
    Path image = tmp.resolve("image");
    try (BlockStore store = open(dir, 8)) {
      Futures.join(store.putBlock(ref(0), Blocks.buf(BLOCK_SIZE, 0)));
      Futures.join(store.flush());
      crashImage(dir, image);
    }
    flipByte(image.resolve(StoreFiles.DATA), 7);
    try (BlockStore store = open(image, 8)) {
      assertThat(Futures.join(store.hasBlock(ref(0)))).isTrue();
      assertCode(store.getBlock(ref(0)), ErrorCode.CORRUPTED);
    }
  }

  @Test
  void unflushedPutsWhoseBlocksDidNotReachTheDiskAreDroppedOnRecovery() throws IOException {
    Path dir = tmp.resolve("s");
    Path intact = tmp.resolve("intact");
    Path damaged = tmp.resolve("damaged");
    try (BlockStore store = open(dir, 8)) {
      Futures.join(store.putBlock(ref(0), Blocks.buf(BLOCK_SIZE, 1))); // slot 0
      Futures.join(store.flush());
      Futures.join(store.putBlock(ref(0), Blocks.buf(BLOCK_SIZE, 2))); // slot 1
      Futures.join(store.putBlock(ref(5), Blocks.buf(BLOCK_SIZE, 5))); // slot 2
      Futures.join(store.putBlock(ref(6), Blocks.buf(BLOCK_SIZE, 6))); // slot 3
      crashImage(dir, intact);
      crashImage(dir, damaged);
    }
    // As if the machine lost power before the page cache wrote slots 1 and 2 back.
    zeroSlot(damaged.resolve(StoreFiles.DATA), 1);
    zeroSlot(damaged.resolve(StoreFiles.DATA), 2);

    try (BlockStore store = open(intact, 8)) {
      assertThat(Blocks.read(store, ref(0))).isEqualTo(Blocks.random(BLOCK_SIZE, 2));
      assertThat(Blocks.read(store, ref(5))).isEqualTo(Blocks.random(BLOCK_SIZE, 5));
    }
    try (BlockStore store = open(damaged, 8)) {
      assertThat(Blocks.read(store, ref(0))).as("the previous version stays")
          .isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      assertCode(store.getBlock(ref(5)), ErrorCode.NOT_FOUND);
      assertThat(Blocks.read(store, ref(6))).isEqualTo(Blocks.random(BLOCK_SIZE, 6));
      assertThat(store.stats().usedBlocks()).isEqualTo(2);
    }
    try (BlockStore store = open(damaged, 8)) {
      assertThat(Blocks.read(store, ref(0))).as("recovery's result was made durable")
          .isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      assertCode(store.getBlock(ref(5)), ErrorCode.NOT_FOUND);
    }
  }

  @Test
  void tornOrDamagedLogTailRecoversToTheLastValidRecord() throws IOException {
    Path dir = tmp.resolve("s");
    Path image = tmp.resolve("image");
    try (BlockStore store = open(dir, 8)) {
      for (int i = 0; i < 3; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      Futures.join(store.flush());
      Futures.join(store.putBlock(ref(3), Blocks.buf(BLOCK_SIZE, 3)));
      crashImage(dir, image);
    }
    Path log = onlyLog(image);
    long end = validEnd(log);
    List<ThrowingConsumer> damages = List.of(
        file -> truncate(file, end - 10), // the last PUT half written
        file -> flipByte(file, end - 3), // the last PUT's bytes garbled
        file -> writeAt(file, end - IndexLog.PUT_BYTES + 4, new byte[] {9})); // unknown type
    for (ThrowingConsumer damage : damages) {
      Path copy = tmp.resolve("copy-" + damages.indexOf(damage));
      copyDir(image, copy);
      damage.accept(onlyLog(copy));
      try (BlockStore store = open(copy, 8)) {
        for (int i = 0; i < 3; i++) {
          assertThat(Blocks.read(store, ref(i))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
        }
        assertCode(store.getBlock(ref(3)), ErrorCode.NOT_FOUND);
        assertThat(endsCleanly(onlyLog(copy))).as("the damaged tail was cut off").isTrue();
        Futures.join(store.putBlock(ref(3), Blocks.buf(BLOCK_SIZE, 33)));
      }
      try (BlockStore store = open(copy, 8)) {
        assertThat(Blocks.read(store, ref(3))).isEqualTo(Blocks.random(BLOCK_SIZE, 33));
      }
    }
  }

  @Test
  void damageBeforeRecordsThatAFlushMadeDurableFailsCorrupted() throws IOException {
    Path dir = tmp.resolve("s");
    Path image = tmp.resolve("image");
    try (BlockStore store = open(dir, 8)) {
      for (int i = 0; i < 3; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
        Futures.join(store.flush());
      }
      crashImage(dir, image);
    }
    // Records: PUT FLUSH PUT FLUSH PUT FLUSH. Garbling the second PUT would silently lose the
    // third block, which two later markers prove was durable.
    long secondPut = IndexLog.HEADER_BYTES + IndexLog.PUT_BYTES + IndexLog.FLUSH_BYTES;
    Path midLog = tmp.resolve("mid");
    copyDir(image, midLog);
    flipByte(onlyLog(midLog), secondPut + 20);
    assertFails(() -> open(midLog, 8), ErrorCode.CORRUPTED, "damaged at offset " + secondPut);

    // Garbling the third PUT is indistinguishable from a torn tail: one marker follows, and its
    // flush may not have completed.
    Path nearTail = tmp.resolve("tail");
    copyDir(image, nearTail);
    flipByte(onlyLog(nearTail), secondPut + IndexLog.PUT_BYTES + IndexLog.FLUSH_BYTES + 20);
    try (BlockStore store = open(nearTail, 8)) {
      assertThat(store.stats().usedBlocks()).isEqualTo(2);
      assertThat(endsCleanly(onlyLog(nearTail))).as("the marker after the damage was cut off")
          .isTrue();
    }
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefusedUntilTheFirstCloses() {
    Path dir = tmp.resolve("s");
    BlockStore first = open(dir, 8);
    try {
      Futures.join(first.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      assertFails(() -> open(dir, 8), ErrorCode.LOCKED, "already open");
      assertFails(() -> open(dir.resolve("..").resolve("s"), 8), ErrorCode.LOCKED, "already open");
      assertThat(Blocks.read(first, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
    } finally {
      first.close();
    }
    try (BlockStore again = open(dir, 8)) {
      assertThat(Blocks.read(again, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
    }
  }

  @Test
  void theStoreFlushesOnItsOwnWhenUnflushedDataExceedsTheLimit() throws IOException {
    Path dir = tmp.resolve("s");
    FileStoreConfig config = new FileStoreConfig(dir, BLOCK_SIZE, DataSize.ofMebibytes(1),
        DataSize.ofKibibytes(64));
    try (BlockStore store = BlockStores.openFile(config, io)) {
      for (int i = 0; i < 100; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      // 100 puts of 4 KiB against a 64 KiB limit: a flush after at most 16 puts.
      LogSummary log = summarize(onlyLog(dir));
      assertThat(log.flushes()).isGreaterThanOrEqualTo(100 / 16);
      assertThat(log.putsAfterLastFlush()).isLessThanOrEqualTo(16);
    }
  }

  @Test
  void aFullFileSystemFailsPutsOutOfSpaceAndLosesNothing() throws Exception {
    Path mount = tmp.resolve("tmpfs");
    Files.createDirectories(mount);
    Tmpfs.mountOrSkip(mount, "4m");
    try {
      Path dir = mount.resolve("s");
      int stored = 0;
      try (BlockStore store = open(dir, 4096)) { // 16 MiB of sparse slots on 4 MiB
        TorusException full = null;
        while (full == null) {
          try {
            Futures.join(store.putBlock(ref(stored), Blocks.buf(BLOCK_SIZE, stored)));
            stored++;
            if (stored % 64 == 0) {
              Futures.join(store.flush());
            }
          } catch (TorusException e) {
            full = e;
          }
        }
        assertThat(full.code()).isEqualTo(ErrorCode.OUT_OF_SPACE);
        assertThat(full.getMessage()).contains("no space left");
        Futures.join(store.flush());
        for (int i = 0; i < stored; i++) {
          assertThat(Blocks.read(store, ref(i))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
        }
        // Deleting frees slots whose file pages exist already, so new blocks fit again.
        for (int i = 0; i < 10; i++) {
          Futures.join(store.deleteBlock(ref(i)));
        }
        Futures.join(store.flush());
        for (int i = 0; i < 10; i++) {
          Futures.join(store.putBlock(ref(100_000 + i), Blocks.buf(BLOCK_SIZE, -i)));
        }
        Futures.join(store.flush());
      }
      // Closing could not write a checkpoint, and reopening needs room for one.
      Tmpfs.resize(mount, "8m");
      try (BlockStore store = open(dir, 4096)) {
        for (int i = 10; i < stored; i++) {
          assertThat(Blocks.read(store, ref(i))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
        }
        for (int i = 0; i < 10; i++) {
          assertThat(Blocks.read(store, ref(100_000 + i))).isEqualTo(Blocks.random(BLOCK_SIZE, -i));
        }
        assertThat(store.stats().usedBlocks()).isEqualTo(stored);
      }
    } finally {
      Tmpfs.unmount(mount);
    }
  }

  @Test
  void checkpointsRestartTheLogAndKeepEverything() throws IOException {
    Path dir = tmp.resolve("s");
    FileStoreConfig config = FileStoreConfig.of(dir, BLOCK_SIZE, DataSize.ofMebibytes(1));
    try (BlockStore store = FileBlockStore.open(config, io, 2048)) {
      for (int i = 0; i < 200; i++) {
        Futures.join(store.putBlock(ref(i % 120), Blocks.buf(BLOCK_SIZE, i)));
        if (i % 10 == 9) {
          Futures.join(store.flush());
        }
      }
      assertThat(Files.exists(dir.resolve(StoreFiles.CHECKPOINT))).isTrue();
      assertThat(StoreFiles.logs(dir)).hasSize(1);
      assertThat(StoreFiles.logs(dir).firstKey()).as("log generations").isGreaterThan(1L);
      assertThat(Files.size(onlyLog(dir))).isLessThanOrEqualTo(IndexLog.EXTEND_BYTES + 4096L);
    }
    try (BlockStore store = open(dir, 256)) {
      for (int i = 80; i < 200; i++) {
        assertThat(Blocks.read(store, ref(i % 120))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
      }
      assertThat(store.stats().usedBlocks()).isEqualTo(120);
    }
  }

  @Test
  void cleanReopenNeitherReplaysNorRewritesTheIndex() throws IOException {
    Path dir = tmp.resolve("s");
    try (BlockStore store = open(dir, 8)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
    }
    long checkpointModified = Files.getLastModifiedTime(dir.resolve(StoreFiles.CHECKPOINT)).toMillis();
    Path log = onlyLog(dir);
    try (BlockStore store = open(dir, 8)) {
      assertThat(Blocks.read(store, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
    }
    assertThat(onlyLog(dir)).isEqualTo(log);
    assertThat(Files.getLastModifiedTime(dir.resolve(StoreFiles.CHECKPOINT)).toMillis())
        .isEqualTo(checkpointModified);
  }

  @Test
  void damagedHeaderOrCheckpointOrAMissingLogFailsCorrupted() throws IOException {
    Path dir = tmp.resolve("s");
    try (BlockStore store = open(dir, 8)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
    }
    Path header = tmp.resolve("header");
    copyDir(dir, header);
    flipByte(header.resolve(StoreFiles.HEADER), 13);
    assertFails(() -> open(header, 8), ErrorCode.CORRUPTED, StoreFiles.HEADER);

    Path checkpoint = tmp.resolve("checkpoint");
    copyDir(dir, checkpoint);
    flipByte(checkpoint.resolve(StoreFiles.CHECKPOINT), 50);
    assertFails(() -> open(checkpoint, 8), ErrorCode.CORRUPTED, "checkpoint");

    Path headless = tmp.resolve("headless");
    copyDir(dir, headless);
    Files.delete(headless.resolve(StoreFiles.HEADER));
    assertFails(() -> open(headless, 8), ErrorCode.CORRUPTED, "is missing");

    Path gap = tmp.resolve("gap");
    copyDir(dir, gap);
    long generation = StoreFiles.logs(gap).lastKey();
    Files.move(StoreFiles.log(gap, generation), StoreFiles.log(gap, generation + 1));
    assertFails(() -> open(gap, 8), ErrorCode.CORRUPTED, "missing");
  }

  @Test
  void tooLargeACapacityIsRefused() {
    FileStoreConfig config = FileStoreConfig.of(tmp.resolve("s"), BLOCK_SIZE,
        DataSize.ofTebibytes(4));
    assertFails(() -> BlockStores.openFile(config, io), ErrorCode.INVALID_ARGUMENT,
        "larger block size");
  }

  // ---- helpers ----

  @FunctionalInterface
  interface ThrowingConsumer {
    void accept(Path file) throws IOException;
  }

  static void assertFails(ThrowingCallable call, ErrorCode code, String... messageParts) {
    assertThatThrownBy(call)
        .isInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(code))
        .satisfies(e -> assertThat(e.getMessage()).contains(messageParts));
  }

  /**
   * Copies an open, idle store's files: what the disk holds if the process is killed now (the page
   * cache survives a process crash).
   */
  static void crashImage(Path dir, Path image) throws IOException {
    Files.createDirectories(image);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals(StoreFiles.LOCK)) {
          Files.copy(f, image.resolve(f.getFileName()));
        }
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  static void copyDir(Path from, Path to) throws IOException {
    crashImage(from, to);
  }

  static Path onlyLog(Path dir) throws IOException {
    assertThat(StoreFiles.logs(dir)).hasSize(1);
    return StoreFiles.logs(dir).values().iterator().next();
  }

  static long validEnd(Path log) throws IOException {
    try (IndexLogReader reader = IndexLogReader.open(log, generationOf(log), 0)) {
      while (reader.next()) {
        // read to the end
      }
      return reader.validEnd();
    }
  }

  static boolean endsCleanly(Path log) throws IOException {
    try (IndexLogReader reader = IndexLogReader.open(log, generationOf(log), 0)) {
      while (reader.next()) {
        // read to the end
      }
      return reader.endsCleanly();
    }
  }

  record LogSummary(int flushes, int putsAfterLastFlush) {}

  /** How many FLUSH markers a log holds, and how many PUTs no marker covers. */
  static LogSummary summarize(Path log) throws IOException {
    int flushes = 0;
    long covered = 0;
    List<Long> puts = new ArrayList<>();
    try (IndexLogReader reader = IndexLogReader.open(log, generationOf(log), 0)) {
      while (reader.next()) {
        if (reader.type() == IndexLog.FLUSH) {
          flushes++;
          covered = Math.max(covered, reader.coveredSeq());
        } else if (reader.type() == IndexLog.PUT) {
          puts.add(reader.seq());
        }
      }
    }
    long lastCovered = covered;
    return new LogSummary(flushes, (int) puts.stream().filter(seq -> seq > lastCovered).count());
  }

  static long generationOf(Path log) throws IOException {
    return StoreFiles.logs(log.getParent()).entrySet().stream()
        .filter(e -> e.getValue().equals(log)).findFirst().orElseThrow().getKey();
  }

  static void flipByte(Path file, long position) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, position);
      b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
      ch.write(b, position);
    }
  }

  static void writeAt(Path file, long position, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(bytes), position);
    }
  }

  static void zeroSlot(Path dataFile, int slot) throws IOException {
    writeAt(dataFile, (long) slot * BLOCK_SIZE, new byte[BLOCK_SIZE]);
  }

  static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }
}
