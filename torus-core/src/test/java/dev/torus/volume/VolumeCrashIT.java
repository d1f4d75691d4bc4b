package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.client.Torus;
import dev.torus.client.TorusClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process that writes and flushes a volume (durable file store, embedded metadata) with
 * SIGKILL at random moments, and checks after each restart that the volume is exactly the state of
 * its last completed flush, or of the flush that was running when it died, had that one's commit
 * landed: every flushed byte is intact, nothing unflushed half-appears, and nothing reads as
 * corrupted. The seed is printed; rerun one with {@code TORUS_CRASH_SEED=<seed>}.
 */
final class VolumeCrashIT {
  @TempDir
  Path tmp;

  @Test
  void aVolumeIsAlwaysExactlyItsLastCommitAfterSigkill() throws Exception {
    String fixed = System.getenv("TORUS_CRASH_SEED");
    long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
    System.out.println("VolumeCrashIT seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Path dir = tmp.resolve("torus");
    long[] committed = new long[VolumeCrashWorkload.UNITS]; // generation per unit, 0 = zeroes
    for (int round = 0; round < 6; round++) {
      String context = "seed " + seed + ", round " + round;
      long firstGen = (round + 1) * 100_000_000L;
      List<String> report = runAndKill(dir, random, firstGen, context);
      long[] next = committed.clone();
      long[] inFlight = replay(report, next);
      long[] actual = readBack(dir, context);
      if (Arrays.equals(actual, next)) {
        committed = next;
      } else if (inFlight != null && Arrays.equals(actual, inFlight)) {
        committed = inFlight; // the flush in progress at the kill had committed
      } else {
        int unit = firstDifference(actual, next);
        throw new AssertionError(context + ": unit " + unit + " holds generation " + actual[unit]
            + ", but the last completed flush left " + next[unit]
            + (inFlight == null ? "" : " and the flush in progress would leave " + inFlight[unit]));
      }
    }
  }

  /**
   * Applies the report to {@code committed} up to the last completed flush and returns the state
   * the flush running at the kill would have committed, or null if none was running.
   */
  private static long[] replay(List<String> report, long[] committed) {
    long[] pending = committed.clone();
    long[] flushing = null;
    for (String line : report) {
      String[] f = line.split(" ");
      switch (f[0]) {
        case "W" -> pending[Integer.parseInt(f[1])] = Long.parseLong(f[2]);
        case "F" -> flushing = pending.clone();
        case "D" -> {
          System.arraycopy(flushing, 0, committed, 0, committed.length);
          flushing = null;
        }
        default -> { }
      }
    }
    return flushing;
  }

  private List<String> runAndKill(Path dir, SplittableRandom random, long firstGen, String context)
      throws IOException, InterruptedException {
    Path out = tmp.resolve("report.txt");
    Path err = tmp.resolve("stderr.txt");
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), VolumeCrashWorkload.class.getName(),
        dir.toString(), Long.toString(random.nextLong()), Long.toString(firstGen))
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    // Kill at a random moment after a random number of completed flushes.
    int flushes = 1 + random.nextInt(20);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (Files.readAllLines(out).stream().filter(l -> l.startsWith("D ")).count() < flushes) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new AssertionError(context + ": the workload did not get through " + flushes
            + " flushes: " + Files.readString(err));
      }
      Thread.sleep(10);
    }
    Thread.sleep(random.nextInt(40));
    p.toHandle().destroyForcibly(); // SIGKILL
    p.waitFor();
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    String text = Files.readString(out);
    if (!text.endsWith("\n") && !lines.isEmpty()) {
      lines = lines.subList(0, lines.size() - 1); // cut mid-line by the kill
    }
    assertThat(lines.stream().filter(l -> l.startsWith("D "))).as(context + ": flushes before the kill")
        .isNotEmpty();
    return lines;
  }

  private static long[] readBack(Path dir, String context) {
    long[] gens = new long[VolumeCrashWorkload.UNITS];
    try (TorusClient torus = Torus.local(dir, DataSize.ofMebibytes(256));
        BlockVolume v = join(torus.volumes().openReadOnly(VolumeCrashWorkload.VOLUME))) {
      ByteBuf all = join(v.read(0, VolumeCrashWorkload.UNIT * VolumeCrashWorkload.UNITS));
      try {
        byte[] bytes = ByteBufUtil.getBytes(all);
        for (int unit = 0; unit < gens.length; unit++) {
          byte[] got = Arrays.copyOfRange(bytes, unit * VolumeCrashWorkload.UNIT, (unit + 1) * VolumeCrashWorkload.UNIT);
          ByteBuffer header = ByteBuffer.wrap(got);
          int u = header.getInt();
          long gen = header.getLong();
          if (u == 0 && gen == 0 && Arrays.equals(got, new byte[got.length])) {
            gens[unit] = 0;
          } else if (u == unit && Arrays.equals(got, VolumeCrashWorkload.content(unit, gen))) {
            gens[unit] = gen;
          } else {
            throw new AssertionError(context + ": unit " + unit + " holds bytes no write produced");
          }
        }
      } finally {
        all.release();
      }
    }
    return gens;
  }

  private static int firstDifference(long[] a, long[] b) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        return i;
      }
    }
    return -1;
  }
}
