package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.gc.GarbageCollector;
import dev.torus.gc.GcConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Drives random sequences of volume operations against a {@code byte[]} model: writes, reads,
 * trims, zeroing, flushes, snapshots, restores, clones, resizes, close-and-reopen and garbage
 * collection with no grace period while writes are in flight. Every read must match the model
 * exactly and every allocation map must be consistent with it. A failure
 * names the seed; rerun one seed with {@code -Dtorus.seed=N}.
 */
public interface VolumeModelContract {
  int BLOCK = 4096;

  /** A fresh, initialised fixture with {@link #BLOCK}-byte blocks; the test closes it. */
  VolumeFixture newFixture();

  /** Steps per seed. */
  default int steps() {
    return 2500;
  }

  static Stream<Long> seeds() {
    String fixed = System.getProperty("torus.seed");
    if (fixed != null) {
      return Stream.of(Long.parseLong(fixed));
    }
    long base = System.nanoTime();
    return LongStream.range(0, 4).mapToObj(i -> i < 2 ? 1000 + i : base + i);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("dev.torus.volume.VolumeModelContract#seeds")
  default void volumeMatchesTheModel(long seed) throws Exception {
    try (VolumeFixture f = newFixture()) {
      new Run(f, seed, steps()).go();
    }
  }

  /** One randomised run. */
  final class Run {
    final VolumeFixture f;
    final long seed;
    final int steps;
    final Random r;
    final Map<String, byte[]> snapshots = new HashMap<>();
    final List<String> log = new ArrayList<>();
    byte[] model;
    BlockVolume v;
    int clones;
    final GarbageCollector gc;

    Run(VolumeFixture f, long seed, int steps) {
      this.f = f;
      this.gc = GarbageCollector.create(f.metadata, f.volumes, f.store,
          new GcConfig(Duration.ofMinutes(1), Duration.ZERO, 64), System::nanoTime);
      this.seed = seed;
      this.steps = steps;
      this.r = new Random(seed);
    }

    void go() {
      long size = BLOCK * (16L + r.nextInt(200)) + r.nextInt(3) * 512L;
      join(f.volumes.catalog().create("model", size));
      model = new byte[(int) size];
      v = join(f.volumes.openWritable("model"));
      try {
        for (int step = 0; step < steps; step++) {
          try {
            step();
          } catch (Throwable t) {
            throw new AssertionError("seed " + seed + " failed at step " + step + " after "
                + log.subList(Math.max(0, log.size() - 12), log.size()) + ": " + t, t);
          }
        }
        verifyAll(v, model, "final");
      } finally {
        v.close();
      }
      try (BlockVolume reopened = join(f.volumes.openReadOnly("model"))) {
        verifyAll(reopened, model, "after close");
      }
    }

    private void step() {
      int op = r.nextInt(100);
      if (op < 35) {
        write();
      } else if (op < 55) {
        read();
      } else if (op < 62) {
        zero(r.nextBoolean());
      } else if (op < 70) {
        log.add("flush");
        join(v.flush());
      } else if (op < 76) {
        allocation();
      } else if (op < 81) {
        String name = "s" + snapshots.size();
        log.add("snapshot " + name);
        join(v.snapshot(name));
        snapshots.put(name, model.clone());
      } else if (op < 84 && !snapshots.isEmpty()) {
        restore();
      } else if (op < 87 && !snapshots.isEmpty()) {
        cloneAndCheck();
      } else if (op < 90) {
        long grow = r.nextInt(4) * (long) BLOCK + r.nextInt(2) * 512L;
        log.add("resize +" + grow);
        join(v.resize(model.length + grow));
        model = Arrays.copyOf(model, (int) (model.length + grow));
      } else if (op < 95) {
        log.add("reopen");
        v.close();
        v = join(f.volumes.openWritable("model"));
      } else if (op < 97) {
        concurrentWrites();
      } else {
        log.add("gc");
        assertThat(join(gc.runOnce()).skipped()).isEmpty();
      }
    }

    private long[] range(int maxLen) {
      int off = r.nextInt(model.length);
      int len = 1 + r.nextInt(Math.min(maxLen, model.length - off));
      if (r.nextInt(4) == 0) { // block-aligned, whole blocks
        off = off / BLOCK * BLOCK;
        len = Math.min(model.length - off, (1 + r.nextInt(4)) * BLOCK);
      }
      return new long[] {off, len};
    }

    private void write() {
      long[] rg = range(3 * BLOCK);
      byte[] data = new byte[(int) rg[1]];
      if (r.nextInt(5) > 0) {
        r.nextBytes(data);
      }
      ByteBuf buf = Unpooled.wrappedBuffer(data);
      if (r.nextBoolean()) { // the NBD server's way: whole blocks' checksums taken on receipt
        log.add("write with checksums " + rg[0] + "+" + rg[1]);
        join(v.write(rg[0], buf, ModelBlockDevice.wholeBlockCrcs(rg[0], buf, BLOCK)));
      } else {
        log.add("write " + rg[0] + "+" + rg[1]);
        join(v.write(rg[0], buf));
      }
      System.arraycopy(data, 0, model, (int) rg[0], data.length);
    }

    private void read() {
      long[] rg = range(4 * BLOCK);
      log.add("read " + rg[0] + "+" + rg[1]);
      check(v, rg[0], (int) rg[1], model, "read");
    }

    private void zero(boolean trim) {
      long[] rg = range(5 * BLOCK);
      log.add((trim ? "trim " : "zero ") + rg[0] + "+" + rg[1]);
      join(trim ? v.trim(rg[0], rg[1]) : v.writeZeroes(rg[0], rg[1]));
      Arrays.fill(model, (int) rg[0], (int) (rg[0] + rg[1]), (byte) 0);
    }

    private void allocation() {
      long[] rg = range(model.length);
      log.add("allocation " + rg[0] + "+" + rg[1]);
      List<Extent> extents = join(v.allocation(rg[0], rg[1]));
      long at = rg[0];
      for (Extent e : extents) {
        assertThat(e.offset()).as("extents cover the range contiguously").isEqualTo(at);
        if (e.hole()) {
          for (long i = e.offset(); i < e.end(); i++) {
            if (model[(int) i] != 0) {
              throw new AssertionError("byte " + i + " is reported as a hole but holds " + model[(int) i]);
            }
          }
        }
        at = e.end();
      }
      assertThat(at).isEqualTo(rg[0] + rg[1]);
    }

    private void restore() {
      String name = pick();
      log.add("restore " + name);
      v.close();
      join(f.volumes.catalog().restoreSnapshot("model", name));
      model = snapshots.get(name).clone();
      v = join(f.volumes.openWritable("model"));
      assertThat(v.size()).isEqualTo(model.length);
    }

    private void cloneAndCheck() {
      String name = pick();
      String clone = "clone" + clones++;
      log.add("clone " + name + " -> " + clone);
      join(f.volumes.catalog().cloneSnapshot("model", name, clone));
      byte[] expected = snapshots.get(name);
      try (BlockVolume c = join(f.volumes.openWritable(clone))) {
        verifyAll(c, expected, "clone " + clone);
        join(c.write(0, Unpooled.wrappedBuffer(new byte[] {42})));
        join(c.flush());
      }
      check(v, 0, Math.min(model.length, 1), model, "source unchanged by clone write");
    }

    private void concurrentWrites() {
      int n = 2 + r.nextInt(6);
      List<java.util.concurrent.CompletableFuture<Void>> writes = new ArrayList<>();
      int stripe = model.length / n;
      log.add("concurrent x" + n);
      for (int i = 0; i < n; i++) {
        int off = i * stripe + r.nextInt(Math.max(1, stripe / 2));
        int len = 1 + r.nextInt(Math.max(1, Math.min(2 * BLOCK, (i + 1) * stripe - off)));
        byte[] data = new byte[len];
        r.nextBytes(data);
        writes.add(v.write(off, Unpooled.wrappedBuffer(data)));
        System.arraycopy(data, 0, model, off, len);
      }
      writes.forEach(dev.torus.internal.concurrent.Futures::join);
    }

    private String pick() {
      List<String> names = new ArrayList<>(snapshots.keySet());
      names.sort(null);
      return names.get(r.nextInt(names.size()));
    }

    static void check(BlockVolume v, long off, int len, byte[] model, String what) {
      ByteBuf buf = join(v.read(off, len));
      try {
        byte[] got = ByteBufUtil.getBytes(buf);
        byte[] want = Arrays.copyOfRange(model, (int) off, (int) off + len);
        if (!Arrays.equals(got, want)) {
          int i = Arrays.mismatch(got, want);
          throw new AssertionError(what + " " + off + "+" + len + " differs at byte " + (off + i)
              + ": got " + got[i] + ", model has " + want[i]);
        }
      } finally {
        buf.release();
      }
    }

    static void verifyAll(BlockVolume v, byte[] model, String what) {
      assertThat(v.size()).as(what + " size").isEqualTo(model.length);
      check(v, 0, model.length, model, what);
    }
  }
}
