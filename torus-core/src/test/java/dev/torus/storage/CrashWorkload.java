package dev.torus.storage;

import dev.torus.DataSize;
import dev.torus.TorusException;
import dev.torus.internal.concurrent.Futures;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The child process of {@link FileBlockStoreCrashIT}: writes, deletes and flushes a file store
 * until it is killed, and reports on stdout what it did, one line per step:
 *
 * <pre>
 * READY              the store is open
 * P batch ref gen    about to put block generation gen (a {@link Blocks#tagged} block) under ref
 * D batch ref        about to delete ref
 * F batch            every operation of this and earlier batches is flushed
 * </pre>
 *
 * A batch's operations run concurrently on distinct refs; the flush that ends a batch starts after
 * all of them completed. A second thread calls {@code flush()} at random moments to stir things
 * up; small limits make automatic flushes and checkpoints frequent.
 *
 * <p>With the single argument {@code lock DIR}, it tries to open the store in DIR and prints the
 * error code, or {@code OPENED}.
 */
final class CrashWorkload {
  static final int REFS = 200;
  static final long CAPACITY_BLOCKS = 3L * REFS;
  static final long CHECKPOINT_MIN_BYTES = 64 << 10;

  private CrashWorkload() {}

  static FileStoreConfig config(Path dir) {
    return new FileStoreConfig(dir, BlockStoreContract.BLOCK_SIZE,
        DataSize.ofBytes(CAPACITY_BLOCKS * BlockStoreContract.BLOCK_SIZE), DataSize.ofKibibytes(256));
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false,
        StandardCharsets.UTF_8);
    ExecutorService io = Executors.newFixedThreadPool(3);
    if (args[0].equals("lock")) {
      try (BlockStore store = FileBlockStore.open(config(Path.of(args[1])), io, CHECKPOINT_MIN_BYTES)) {
        out.println("OPENED " + store.stats().usedBlocks());
      } catch (TorusException e) {
        out.println(e.code() + " " + e.getMessage());
      }
      out.flush();
      io.shutdown();
      return;
    }
    SplittableRandom random = new SplittableRandom(Long.parseLong(args[1]));
    long gen = Long.parseLong(args[2]);
    BlockStore store = FileBlockStore.open(config(Path.of(args[0])), io, CHECKPOINT_MIN_BYTES);
    out.println("READY");
    out.flush();
    Thread stirrer = new Thread(() -> flushAtRandom(store, random.split()), "stirrer");
    stirrer.setDaemon(true);
    stirrer.start();
    for (long batch = 0; ; batch++) {
      int[] refs = random.ints(0, REFS).distinct().limit(1 + random.nextInt(16)).toArray();
      long[] gens = new long[refs.length]; // 0: delete
      StringBuilder report = new StringBuilder();
      for (int i = 0; i < refs.length; i++) {
        gens[i] = random.nextInt(100) < 15 ? 0 : ++gen;
        report.append(gens[i] == 0 ? "D " + batch + " " + refs[i]
            : "P " + batch + " " + refs[i] + " " + gens[i]).append('\n');
      }
      // The parent must know of every operation before it can take effect.
      out.print(report);
      out.flush();
      List<CompletableFuture<Void>> ops = new ArrayList<>();
      for (int i = 0; i < refs.length; i++) {
        ops.add(gens[i] == 0 ? store.deleteBlock(BlockStoreContract.ref(refs[i]))
            : store.putBlock(BlockStoreContract.ref(refs[i]),
                Blocks.tagged(BlockStoreContract.BLOCK_SIZE, Math.toIntExact(gens[i]))));
      }
      Futures.join(Futures.allOf(ops));
      if (random.nextBoolean()) {
        Futures.join(store.flush());
        out.println("F " + batch);
        out.flush();
      }
    }
  }

  private static void flushAtRandom(BlockStore store, SplittableRandom random) {
    while (true) {
      try {
        Thread.sleep(random.nextInt(20));
      } catch (InterruptedException e) {
        return;
      }
      try {
        store.flush().join();
      } catch (RuntimeException e) {
        // Dying on the spot shows the parent that something failed before it killed us.
        e.printStackTrace();
        Runtime.getRuntime().halt(3);
      }
    }
  }
}
