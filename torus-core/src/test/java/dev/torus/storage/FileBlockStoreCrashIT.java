package dev.torus.storage;

import static dev.torus.storage.BlockStoreContract.ref;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.internal.concurrent.Futures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process that writes to a file store with SIGKILL at random moments, reopens the store
 * and checks it against what the process reported (see {@link CrashWorkload}): a block whose put
 * or delete was flushed before the kill reads back exactly; one changed after the last flush reads
 * as its flushed version or as one of its later versions, always a whole block; nothing reads as
 * CORRUPTED. The seed is printed, and a failure names it; rerun one with {@code
 * TORUS_CRASH_SEED=<seed>}.
 */
final class FileBlockStoreCrashIT {
  private static final long ABSENT = 0;
  private static final long TIME_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(40);

  @TempDir Path tmp;
  private final ExecutorService io = Executors.newFixedThreadPool(2);

  @AfterEach
  void stopExecutor() {
    io.shutdownNow();
  }

  private record Op(long batch, int ref, long gen) {}

  @Test
  void flushedBlocksSurviveSigkillAndUnflushedOnesReadAsWholeVersions() throws Exception {
    String fixed = System.getenv("TORUS_CRASH_SEED");
    long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
    System.out.println("FileBlockStoreCrashIT seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Path dir = tmp.resolve("store");
    long[] state = new long[CrashWorkload.REFS];
    long start = System.nanoTime();
    int rounds = 0;
    while (rounds < 4 || (rounds < 12 && System.nanoTime() - start < TIME_BUDGET_NANOS)) {
      String context = "seed " + seed + " (rerun with TORUS_CRASH_SEED=" + seed + "), round "
          + rounds;
      List<String> report = runAndKill(dir, random, rounds * 10_000_000L, context);
      Path evidence = tmp.resolve("evidence");
      // A kill during the child's start-up may come before it created the store.
      boolean created = Files.exists(dir);
      if (created) {
        FileBlockStoreTest.crashImage(dir, evidence);
      }
      try {
        verify(dir, state, parse(report), lastFlushed(report), context);
      } catch (AssertionError e) {
        throw created ? keep(e, context, report, evidence) : e;
      }
      if (created) {
        FileBlockStoreTest.deleteTree(evidence);
      }
      rounds++;
    }
    System.out.printf("FileBlockStoreCrashIT: %d rounds in %d ms%n", rounds,
        (System.nanoTime() - start) / 1_000_000);
  }

  @Test
  void anotherProcessCannotOpenAnOpenStore() throws Exception {
    Path dir = tmp.resolve("store");
    try (BlockStore store = FileBlockStore.open(CrashWorkload.config(dir), io,
        CrashWorkload.CHECKPOINT_MIN_BYTES)) {
      Futures.join(store.putBlock(ref(1), Blocks.tagged(BlockStoreContract.BLOCK_SIZE, 1)));
      String answer = lockProbe(dir);
      assertThat(answer).startsWith(ErrorCode.LOCKED.name()).contains("another process");
      assertThat(Blocks.seedOf(Blocks.read(store, ref(1)))).as("still usable").isEqualTo(1);
    }
    assertThat(lockProbe(dir)).isEqualTo("OPENED 1");
  }

  /**
   * Moves what a failure needs for diagnosis (the workload's report and its stderr, and the store
   * as the workload left it) to target/crash-evidence, which outlives the test's temp directory.
   */
  private AssertionError keep(AssertionError e, String context, List<String> report, Path store)
      throws IOException {
    Path kept = Path.of("target", "crash-evidence", Long.toString(System.currentTimeMillis()));
    Files.createDirectories(kept);
    Files.write(kept.resolve("report.txt"), report);
    Files.copy(tmp.resolve("child-stderr.txt"), kept.resolve("child-stderr.txt"));
    FileBlockStoreTest.crashImage(store, kept.resolve("store"));
    e.addSuppressed(new AssertionError(context + ": evidence kept in " + kept.toAbsolutePath()));
    return e;
  }

  /** Starts the workload, kills it at a random moment, and returns what it reported. */
  private List<String> runAndKill(Path dir, SplittableRandom random, long genBase, String context)
      throws Exception {
    Path stderr = tmp.resolve("child-stderr.txt");
    Process child = child(stderr, dir.toString(), Long.toString(random.nextLong()),
        Long.toString(genBase));
    List<String> lines = new ArrayList<>();
    CountDownLatch ready = new CountDownLatch(1);
    Thread reader = new Thread(() -> collect(child, lines, ready), "child-stdout");
    reader.start();
    if (random.nextInt(5) == 0) {
      // Sometimes during start-up, which may be recovering and checkpointing.
      Thread.sleep(random.nextInt(600));
    } else {
      if (!ready.await(30, TimeUnit.SECONDS)) {
        child.destroyForcibly();
        fail(context + ": the workload did not start:\n" + Files.readString(stderr));
      }
      Thread.sleep(100 + random.nextInt(1400));
    }
    if (!child.isAlive()) {
      fail(context + ": the workload died by itself (exit " + child.exitValue() + "):\n"
          + Files.readString(stderr));
    }
    // SIGKILL. Not Process.destroyForcibly(): on Linux that also closes our end of the child's
    // stdout, dropping report lines still in the pipe.
    child.toHandle().destroyForcibly();
    child.waitFor();
    reader.join();
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  private static void collect(Process child, List<String> lines, CountDownLatch ready) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        synchronized (lines) {
          lines.add(line);
        }
        if (line.equals("READY")) {
          ready.countDown();
        }
      }
    } catch (IOException e) {
      // the pipe closes when the child dies
    }
  }

  private static List<Op> parse(List<String> report) {
    List<Op> ops = new ArrayList<>();
    for (String line : report) {
      String[] f = line.split(" ");
      if (f[0].equals("P")) {
        ops.add(new Op(Long.parseLong(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3])));
      } else if (f[0].equals("D")) {
        ops.add(new Op(Long.parseLong(f[1]), Integer.parseInt(f[2]), ABSENT));
      }
    }
    return ops;
  }

  private static long lastFlushed(List<String> report) {
    long last = -1;
    for (String line : report) {
      if (line.startsWith("F ")) {
        last = Math.max(last, Long.parseLong(line.substring(2)));
      }
    }
    return last;
  }

  /**
   * Reopens the store and checks every ref against the report; then records what it read as the
   * new durable state (recovery made it durable).
   */
  private void verify(Path dir, long[] state, List<Op> ops, long lastFlushed, String context) {
    BlockStore opened;
    try {
      opened = FileBlockStore.open(CrashWorkload.config(dir), io,
          CrashWorkload.CHECKPOINT_MIN_BYTES);
    } catch (TorusException e) {
      throw new AssertionError(context + ": reopening the store failed", e);
    }
    try (BlockStore store = opened) {
      long present = 0;
      for (int r = 0; r < state.length; r++) {
        long flushed = state[r];
        Set<Long> allowed = new HashSet<>();
        for (Op op : ops) {
          if (op.ref() == r && op.batch() <= lastFlushed) {
            flushed = op.gen();
          } else if (op.ref() == r) {
            allowed.add(op.gen());
          }
        }
        allowed.add(flushed);
        long seen = read(store, r, context);
        assertThat(seen).as("%s: ref %d, flushed as %d, later versions %s, but read %d, which the"
            + " workload reported as %s", context, r, flushed, allowed, seen,
            ops.stream().filter(op -> op.gen() == seen).toList()).isIn(allowed);
        state[r] = seen;
        present += seen == ABSENT ? 0 : 1;
      }
      assertThat(store.stats().usedBlocks()).as(context).isEqualTo(present);
    }
  }

  /** The generation stored under a ref, or ABSENT; fails on anything but one whole version. */
  private static long read(BlockStore store, int r, String context) {
    byte[] bytes;
    try {
      bytes = Blocks.read(store, ref(r));
    } catch (TorusException e) {
      if (e.code() == ErrorCode.NOT_FOUND) {
        return ABSENT;
      }
      throw new AssertionError(context + ": reading ref " + r + " failed", e);
    }
    assertThat(Blocks.isTagged(bytes)).as("%s: ref %d holds one whole block version", context, r)
        .isTrue();
    return Blocks.seedOf(bytes);
  }

  private String lockProbe(Path dir) throws Exception {
    Path stderr = tmp.resolve("probe-stderr.txt");
    Process probe = child(stderr, "lock", dir.toString());
    String answer = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .trim();
    assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(probe.exitValue()).as(Files.readString(stderr)).isZero();
    return answer;
  }

  /** A JVM with this one's class path running {@link CrashWorkload}. */
  private static Process child(Path stderr, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), CrashWorkload.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
  }
}
