package dev.torus.bench;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.DataSize;
import dev.torus.INodeRef;
import dev.torus.VolumeId;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * How long the file block store takes to open with a million blocks, cleanly and after a crash, and
 * its put+flush and get throughput for 4 KiB and 64 KiB blocks.
 *
 * <p>Usage: {@code bench/run StoreStartupBench [DIR] [--blocks N] [--opens K] [--keep]}. DIR
 * (default {@code /tmp/torus-store-bench}) is emptied first and, unless {@code --keep}, removed at
 * the end; it needs room for N 4 KiB blocks plus 1 GiB.
 *
 * <p>A crash is reproduced without killing anything: while the store is open and idle, its index
 * files (everything but the block file and the lock) are copied aside; before each "crash" open
 * they are put back, which is exactly what the disk holds after a SIGKILL at that moment.
 */
public final class StoreStartupBench {
  private static final int SMALL = 4096;
  private static final int LARGE = 64 << 10;
  private static final int IN_FLIGHT = 64;
  private static final int UNFLUSHED_TAIL = 65_536; // 256 MiB of 4 KiB blocks, the default limit
  private static final long THROUGHPUT_BYTES = 512L << 20;

  private final Path root;
  private final int blocks;
  private final int opens;
  private final ExecutorService io = Executors.newFixedThreadPool(4);

  private StoreStartupBench(Path root, int blocks, int opens) {
    this.root = root;
    this.blocks = blocks;
    this.opens = opens;
  }

  public static void main(String[] args) throws Exception {
    Path root = Path.of("/tmp/torus-store-bench");
    int blocks = 1_000_000;
    int opens = 5;
    boolean keep = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--blocks" -> blocks = Integer.parseInt(args[++i]);
        case "--opens" -> opens = Integer.parseInt(args[++i]);
        case "--keep" -> keep = true;
        default -> root = Path.of(args[i]);
      }
    }
    StoreStartupBench bench = new StoreStartupBench(root, blocks, opens);
    try {
      deleteTree(root);
      bench.startup();
      bench.throughput(SMALL);
      bench.throughput(LARGE);
    } finally {
      bench.io.shutdown();
      if (!keep) {
        deleteTree(root);
      }
    }
  }

  private void startup() throws IOException {
    Path dir = root.resolve("startup");
    // No automatic flush while filling, so the crash image's log holds every put.
    FileStoreConfig config = new FileStoreConfig(dir, SMALL,
        DataSize.ofBytes((long) (blocks + UNFLUSHED_TAIL) * SMALL), DataSize.ofGibibytes(64));
    Path flushed = root.resolve("image-flushed");
    Path unflushed = root.resolve("image-unflushed");
    System.out.printf(Locale.ROOT, "== startup: %,d blocks of 4 KiB in %s%n", blocks, dir);
    try (BlockStore store = BlockStores.openFile(config, io)) {
      long t0 = System.nanoTime();
      putAll(store, blocks, SMALL, i -> i, 0);
      store.flush().join();
      report("fill: put " + blocks + " blocks then one flush", t0, (long) blocks * SMALL, blocks);
      copyIndex(dir, flushed);
      t0 = System.nanoTime();
      SplittableRandom random = new SplittableRandom(1);
      putAll(store, UNFLUSHED_TAIL, SMALL, i -> random.nextInt(blocks), 1);
      report("overwrite " + UNFLUSHED_TAIL + " random blocks, no flush", t0,
          (long) UNFLUSHED_TAIL * SMALL, UNFLUSHED_TAIL);
      copyIndex(dir, unflushed);
      System.out.printf(Locale.ROOT, "crash image after the flush: %s; with the unflushed tail: %s%n",
          describe(flushed), describe(unflushed));
    }
    timeOpens("open after clean close", config, null);
    timeOpens("open after crash, log of flushed puts, no checkpoint", config, flushed);
    timeOpens("open after crash, plus " + UNFLUSHED_TAIL + " unflushed puts to verify", config,
        unflushed);
  }

  private void timeOpens(String what, FileStoreConfig config, Path image) throws IOException {
    long[] millis = new long[opens];
    long heap = 0;
    for (int i = 0; i < opens; i++) {
      if (image != null) {
        restoreIndex(image, config.directory());
      }
      long before = usedHeap();
      long t0 = System.nanoTime();
      BlockStore store = BlockStores.openFile(config, io);
      millis[i] = (System.nanoTime() - t0) / 1_000_000;
      heap = usedHeap() - before;
      if (store.stats().usedBlocks() != blocks) {
        throw new IllegalStateException("reopened with " + store.stats().usedBlocks() + " blocks");
      }
      store.close();
    }
    long[] sorted = millis.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "%s: median %d ms, runs %s ms; heap held by the open store ≈ %d MiB%n",
        what, sorted[opens / 2], Arrays.toString(millis), heap >> 20);
  }

  private void throughput(int blockSize) throws IOException {
    int count = (int) (THROUGHPUT_BYTES / blockSize);
    Path dir = root.resolve("throughput-" + blockSize);
    FileStoreConfig config = FileStoreConfig.of(dir, blockSize,
        DataSize.ofBytes((long) (count + IN_FLIGHT) * blockSize));
    System.out.printf(Locale.ROOT, "== throughput: %s blocks, %s%n", DataSize.ofBytes(blockSize),
        DataSize.ofBytes(THROUGHPUT_BYTES));
    try (BlockStore store = BlockStores.openFile(config, io)) {
      long t0 = System.nanoTime();
      for (int first = 0; first < count; first += IN_FLIGHT) {
        int base = first;
        putAll(store, Math.min(IN_FLIGHT, count - first), blockSize, i -> base + i, 0);
        store.flush().join();
      }
      report("put+flush (" + IN_FLIGHT + " concurrent puts, then flush)", t0,
          (long) count * blockSize, count);
      SplittableRandom random = new SplittableRandom(2);
      t0 = System.nanoTime();
      List<CompletableFuture<ByteBuf>> window = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        window.add(store.getBlock(ref(random.nextInt(count))));
        if (window.size() == IN_FLIGHT) {
          drain(window);
        }
      }
      drain(window);
      report("get (" + IN_FLIGHT + " concurrent random reads, page cache warm)", t0,
          (long) count * blockSize, count);
    }
  }

  private interface RefOf {
    int ref(int i);
  }

  /** Puts n blocks, IN_FLIGHT at a time, under refs ref(i); content depends on ref and round. */
  private static void putAll(BlockStore store, int n, int blockSize, RefOf refOf, int round) {
    List<CompletableFuture<Void>> window = new ArrayList<>(IN_FLIGHT);
    for (int i = 0; i < n; i++) {
      int r = refOf.ref(i);
      ByteBuf block = Unpooled.directBuffer(blockSize, blockSize);
      block.writeZero(blockSize).setLong(0, r).setLong(8, round);
      window.add(store.putBlock(ref(r), block));
      if (window.size() == IN_FLIGHT) {
        CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
        window.clear();
      }
    }
    CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
  }

  private static void drain(List<CompletableFuture<ByteBuf>> window) {
    for (CompletableFuture<ByteBuf> f : window) {
      f.join().release();
    }
    window.clear();
  }

  private static BlockRef ref(int i) {
    return BlockRef.of(new INodeRef(new VolumeId(1), 1 + i / 1_000_000), i % 1_000_000,
        BlockType.DATA);
  }

  private static void report(String what, long t0, long bytes, long ops) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "%s: %.2f s, %.0f MiB/s, %.0f ops/s%n", what, seconds,
        bytes / seconds / (1 << 20), ops / seconds);
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static boolean isIndexFile(Path file) {
    String name = file.getFileName().toString();
    return !name.equals("blocks.dat") && !name.equals("store.lock");
  }

  private static void copyIndex(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.filter(StoreStartupBench::isIndexFile).toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static void restoreIndex(Path image, Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(StoreStartupBench::isIndexFile).toList()) {
        Files.delete(f);
      }
    }
    copyIndex(image, dir);
  }

  private static String describe(Path image) throws IOException {
    try (Stream<Path> files = Files.list(image)) {
      return files.sorted().map(f -> f.getFileName() + " " + DataSize.ofBytes(f.toFile().length()))
          .toList().toString();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
