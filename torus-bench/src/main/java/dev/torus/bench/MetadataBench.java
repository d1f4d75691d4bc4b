package dev.torus.bench;

import dev.torus.PeerId;
import dev.torus.VolumeId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.metadata.etcd.EtcdConfig;
import dev.torus.metadata.etcd.EtcdMetadata;
import dev.torus.metadata.etcd.EtcdProcess;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * Measures the metadata operations on a volume's hot paths against the embedded store and a local
 * etcd: a commit (root compare-and-swap under the write lock), lock + unlock, the open path (get
 * by name + lock + read the root) and snapshot creation. One client issues one operation at a
 * time, so the numbers are latencies (each includes its fsync), not a throughput ceiling.
 *
 * <pre>
 * bench/run MetadataBench [--backend embedded|etcd|both] [--ops N] [--etcd HOST:PORT] [--dir DIR]
 * </pre>
 *
 * Without {@code --etcd} it starts Debian's etcd on free loopback ports with a temporary data
 * directory. The embedded file goes into a temporary directory under {@code --dir} (default: the
 * system temporary directory). Prints a Markdown table for {@code docs/benchmarks.md}.
 */
public final class MetadataBench {
  private MetadataBench() {}

  /** Latencies of one operation kind, in nanoseconds. */
  private record Result(String backend, String op, long[] nanos, long totalNanos) {
    double opsPerSecond() {
      return nanos.length / (totalNanos / 1e9);
    }

    double percentileMillis(double p) {
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
      return sorted[Math.max(0, index)] / 1e6;
    }
  }

  public static void main(String[] args) throws Exception {
    String backend = "both";
    int ops = 1000;
    String etcdEndpoint = null;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--backend" -> backend = args[++i];
        case "--ops" -> ops = Integer.parseInt(args[++i]);
        case "--etcd" -> etcdEndpoint = args[++i];
        case "--dir" -> dir = Path.of(args[++i]);
        default -> {
          System.err.println("usage: MetadataBench [--backend embedded|etcd|both] [--ops N]"
              + " [--etcd HOST:PORT] [--dir DIR]");
          System.exit(2);
        }
      }
    }
    List<Result> results = new ArrayList<>();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    try {
      if (!backend.equals("etcd")) {
        Path work = Files.createTempDirectory(dir, "metadata-bench-");
        try {
          System.err.printf("embedded: %s (%s)%n", work, Files.getFileStore(work).type());
          try (MetadataService m = EmbeddedMetadata.open(work.resolve("metadata.db"),
              Clock.systemUTC(), scheduler)) {
            results.addAll(measure("embedded", m, scheduler, ops));
          }
        } finally {
          deleteTree(work);
        }
      }
      if (!backend.equals("embedded")) {
        if (etcdEndpoint != null) {
          results.addAll(measureEtcd(etcdEndpoint, scheduler, ops));
        } else {
          try (EtcdProcess etcd = EtcdProcess.start()) {
            System.err.printf("etcd: %s (started for this run)%n", etcd.endpoint());
            results.addAll(measureEtcd(etcd.hostPort(), scheduler, ops));
          }
        }
      }
    } finally {
      scheduler.shutdownNow();
    }
    print(results, ops);
  }

  private static List<Result> measureEtcd(String endpoint, ScheduledExecutorService scheduler,
      int ops) {
    EtcdConfig config = EtcdConfig.of(endpoint).withRootPrefix("/torus-bench-" + UUID.randomUUID());
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
      try {
        return measure("etcd", m, scheduler, ops);
      } finally {
        join(m.wipe());
      }
    }
  }

  private static List<Result> measure(String backend, MetadataService m,
      ScheduledExecutorService scheduler, int ops) {
    join(m.initialize(new GlobalMetadata(65536, GlobalMetadata.CRC32C),
        Rings.single(1, new RingMember(new PeerId("bench"), 1))));
    VolumeId id = join(m.volumes().create("bench", VolumeRoot.empty(1L << 30, 1))).id();
    List<Result> out = new ArrayList<>();
    try (LeaseKeeper keeper = join(LeaseKeeper.start(m.leases(), Duration.ofSeconds(30),
        scheduler, System::nanoTime))) {
      long lease = keeper.leaseId();

      VolumeLock held = join(m.volumes().lock(id, lease, "bench"));
      long[] revision = {join(m.volumes().root(id)).revision()};
      out.add(run(backend, "commit (root CAS under the lock)", ops, i -> {
        Versioned<VolumeRoot> next = join(m.volumes().commit(held, revision[0],
            VolumeRoot.empty((1L << 30) + i, 1)));
        revision[0] = next.revision();
      }));
      join(m.volumes().unlock(held));

      out.add(run(backend, "lock + unlock", ops,
          i -> join(m.volumes().unlock(join(m.volumes().lock(id, lease, "bench"))))));

      VolumeLock[] opened = new VolumeLock[1];
      out.add(run(backend, "open (get + lock + root)", ops, () -> {
        if (opened[0] != null) {
          join(m.volumes().unlock(opened[0])); // closing the previous open is not timed
        }
      }, i -> {
        VolumeId v = join(m.volumes().get("bench")).id();
        opened[0] = join(m.volumes().lock(v, lease, "bench"));
        join(m.volumes().root(v));
      }));
      join(m.volumes().unlock(opened[0]));

      int[] serial = {0};
      out.add(run(backend, "snapshot create", ops,
          i -> join(m.volumes().createSnapshot(id, "s" + serial[0]++))));
    }
    return out;
  }

  private static Result run(String backend, String name, int ops, IntConsumer op) {
    return run(backend, name, ops, () -> { }, op);
  }

  /**
   * Runs a warm-up of a tenth of {@code ops} (at least 10), then {@code ops} timed calls of
   * {@code op}, each after an untimed {@code before}.
   */
  private static Result run(String backend, String name, int ops, Runnable before,
      IntConsumer op) {
    for (int i = 0; i < Math.max(10, ops / 10); i++) {
      before.run();
      op.accept(-1 - i);
    }
    long[] nanos = new long[ops];
    long total = 0;
    for (int i = 0; i < ops; i++) {
      before.run();
      long start = System.nanoTime();
      op.accept(i);
      nanos[i] = System.nanoTime() - start;
      total += nanos[i];
    }
    System.err.printf("%s: %s done%n", backend, name);
    return new Result(backend, name, nanos, total);
  }

  private static <T> T join(CompletableFuture<T> f) {
    return f.join();
  }

  private static void print(List<Result> results, int ops) {
    System.out.printf("%d operations each, one client, one operation at a time%n%n", ops);
    System.out.println("| backend | operation | ops/s | p50 ms | p99 ms |");
    System.out.println("|---|---|---:|---:|---:|");
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.2f | %.2f |%n", r.backend(), r.op(),
          r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99));
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
