package dev.torus.bench;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.PeerId;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.volume.BlockVolume;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeService;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

/**
 * The cost of one 4 KiB write plus commit on a 1 GiB volume against a 1 TiB thin volume whose map
 * is fully grown (a block written in every leaf page's range), in the same run. The Go original
 * rewrote the whole block list on every sync, so its commit grew linearly with the volume; here
 * a commit rewrites one page per tree level.
 *
 * <p>Usage: {@code bench/run CommitCostBench [--durable DIR] [--commits N]}. Without {@code
 * --durable} the store and metadata are in memory, which isolates the map's work; with it they
 * are the durable file store and the embedded SQLite metadata in DIR, so each commit includes the
 * fsyncs.
 */
public final class CommitCostBench {
  private static final int BLOCK = 64 << 10;

  public static void main(String[] args) throws Exception {
    Path durable = null;
    int commits = 2000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--durable" -> durable = Path.of(args[++i]);
        case "--commits" -> commits = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: CommitCostBench [--durable DIR] [--commits N]");
      }
    }
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4, Threads.daemon("bench"));
    ExecutorService io = Executors.newFixedThreadPool(4, Threads.daemon("bench-io"));
    MetadataService metadata;
    BlockStore store;
    long capacity = 8L << 30;
    if (durable == null) {
      metadata = KvMetadata.inMemory(Clock.systemUTC(), scheduler);
      store = BlockStores.inMemory(BLOCK, capacity / BLOCK);
    } else {
      deleteRecursively(durable);
      Files.createDirectories(durable);
      metadata = EmbeddedMetadata.open(durable.resolve("metadata.db"), Clock.systemUTC(), scheduler);
      store = BlockStores.openFile(FileStoreConfig.of(durable.resolve("blocks"), BLOCK,
          DataSize.ofBytes(capacity)), io);
    }
    join(metadata.initialize(new GlobalMetadata(BLOCK, GlobalMetadata.CRC32C),
        Rings.single(1, new RingMember(new PeerId("bench"), capacity / BLOCK))));
    VolumeService volumes = VolumeService.create(metadata, store,
        VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO), scheduler, System::nanoTime);
    System.out.printf(Locale.ROOT, "commit cost, %s, %d-byte blocks, %d commits per volume%n",
        durable == null ? "in-memory store and metadata" : "durable store and embedded metadata in " + durable,
        BLOCK, commits);

    long small = 1L << 30;
    long huge = 1L << 40;
    join(volumes.catalog().create("small", small));
    join(volumes.catalog().create("huge", huge));
    fill(volumes, "small", small);
    fill(volumes, "huge", huge);
    Result s = measure(volumes, "small", small, commits);
    Result h = measure(volumes, "huge", huge, commits);
    System.out.println(s);
    System.out.println(h);
    System.out.printf(Locale.ROOT, "ratio 1 TiB / 1 GiB: median %.2fx, mean %.2fx%n",
        h.median / s.median, h.mean / s.mean);
    metadata.close();
    store.close();
    scheduler.shutdownNow();
    io.shutdownNow();
  }

  /** Writes one block in every leaf page's range, so the whole map tree exists. */
  private static void fill(VolumeService volumes, String name, long size) {
    long blocks = size / BLOCK;
    int fanout = (BLOCK - 16) / 28;
    long start = System.nanoTime();
    int written = 0;
    try (BlockVolume v = join(volumes.openWritable(name))) {
      byte[] data = new byte[BLOCK];
      new SplittableRandom(1).nextBytes(data);
      for (long leaf = 0; leaf * fanout < blocks; leaf++) {
        join(v.write(leaf * fanout * BLOCK, Unpooled.wrappedBuffer(data)));
        written++;
      }
      join(v.flush());
    }
    System.out.printf(Locale.ROOT, "%s: %s volume, wrote %d blocks (one per leaf page) in %.1f s%n",
        name, DataSize.ofBytes(size), written, (System.nanoTime() - start) / 1e9);
  }

  private record Result(String volume, long size, double median, double p99, double mean) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%-6s %8s: 4 KiB write + commit median %.3f ms, p99 %.3f ms,"
          + " mean %.3f ms", volume, DataSize.ofBytes(size), median, p99, mean);
    }
  }

  private static Result measure(VolumeService volumes, String name, long size, int commits) {
    SplittableRandom random = new SplittableRandom(2);
    byte[] data = new byte[4096];
    double[] ms = new double[commits];
    try (BlockVolume v = join(volumes.openWritable(name))) {
      for (int i = -commits / 4; i < commits; i++) { // the first quarter warms up the JIT
        random.nextBytes(data);
        long offset = random.nextLong(size / 4096) * 4096;
        long t0 = System.nanoTime();
        join(v.write(offset, Unpooled.wrappedBuffer(data)));
        join(v.flush());
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    double mean = Arrays.stream(ms).average().orElse(0);
    Arrays.sort(ms);
    return new Result(name, size, ms[ms.length / 2], ms[(int) (ms.length * 0.99)], mean);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
