package dev.torus.bench;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.PeerId;
import dev.torus.gc.GarbageCollector;
import dev.torus.gc.GcConfig;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.nbd.NbdTls;
import dev.torus.nbd.VolumeExports;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

/**
 * Serves one real Torus volume over NBD until killed, for {@code bench/nbd-fio.sh}:
 *
 * <pre>
 * bench/run NbdServeBench [--store memory|file] [--dir DIR] [--size 1GiB] [--block-size 32KiB]
 *                         [--port 10809] [--export bench] [--unix PATH] [--io-threads N]
 *                         [--idle-poll-us 50] [--dirty-limit SIZE] [--reclaim-delay-ms 100]
 *                         [--tls-dir DIR]
 * </pre>
 *
 * <ul>
 *   <li>{@code --store memory}: the in-memory volume, a {@link VolumeService} over {@code
 *       BlockStores.inMemory} and in-memory metadata;
 *   <li>{@code --store file}: the durable single-host volume, the file block store and the
 *       embedded SQLite metadata in {@code DIR} (default: a temporary directory, deleted on exit),
 *       as {@code Torus.local} and the quick start use them.
 * </ul>
 *
 * <p>Either way the volume is served the way {@code torusblk nbdserve} serves it: {@link NbdServer}
 * with {@link ExportResolver#ofVolumes}, with the default {@link VolumeConfig} (background commit
 * every 5 s; FLUSH and FUA commit). A garbage collector runs as it does in {@code torusd}, only
 * more often (every 5 s, 5 s grace): the writer deletes the data blocks its commits replace, but
 * the map pages every commit rewrites are the collector's. The store has room for four times the
 * volume; {@code --idle-poll-us} sets how long the server's event loops poll before they sleep
 * ({@link NbdServerConfig#idlePoll()}, 0 for not at all), {@code --dirty-limit} how much written data the volume holds in memory (default: {@link
 * VolumeConfig#defaultDirtyLimit}), and {@code
 * --reclaim-delay-ms} how long after a commit the writer deletes what it replaced ({@link
 * VolumeConfig#reclaimDelay()}). The in-memory store keeps its blocks off the heap: give the JVM
 * {@code -XX:MaxDirectMemorySize} for that ({@code BENCH_JAVA_OPTS}). The export is also the
 * default one, so {@code nbd://127.0.0.1:PORT} works. {@code --tls-dir} requires TLS with {@code
 * DIR/server-cert.pem} and {@code DIR/server-key.pem}, the layout nbdkit and qemu-nbd read, so one
 * directory serves all three ({@code nbds://127.0.0.1:PORT?tls-certificates=DIR} for fio).
 */
public final class NbdServeBench {
  private NbdServeBench() {}

  public static void main(String[] args) throws Exception {
    NbdServerConfig.Builder config = NbdServerConfig.builder();
    long size = DataSize.ofGibibytes(1).bytes();
    int blockSize = GlobalMetadata.defaultBlockSize();
    String export = "bench";
    String storeKind = "memory";
    VolumeConfig volumeConfig = VolumeConfig.DEFAULT.withOwner(VolumeConfig.ownerFor("nbd-bench"));
    Path dir = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--store" -> storeKind = value;
        case "--dir" -> dir = Path.of(value);
        case "--port" -> config.port(Integer.parseInt(value));
        case "--size" -> size = DataSize.parse(value).bytes();
        case "--block-size" -> blockSize = Math.toIntExact(DataSize.parse(value).bytes());
        case "--export" -> export = value;
        case "--unix" -> config.unixSocket(Path.of(value));
        case "--io-threads" -> config.ioThreads(Integer.parseInt(value));
        case "--idle-poll-us" -> config.idlePoll(Duration.ofNanos(1000 * Long.parseLong(value)));
        case "--dirty-limit" -> volumeConfig = volumeConfig.withDirtyLimit(DataSize.parse(value));
        case "--tls-dir" -> config.tls(new NbdTls(Path.of(value, "server-cert.pem"),
            Path.of(value, "server-key.pem"), null, true));
        case "--reclaim-delay-ms" ->
            volumeConfig = volumeConfig.withReclaimDelay(Duration.ofMillis(Long.parseLong(value)));
        default -> usage("unknown option " + args[i]);
      }
      i++;
    }
    if (!storeKind.equals("memory") && !storeKind.equals("file")) {
      usage("--store is memory or file, not " + storeKind);
    }
    boolean temporary = dir == null;
    if (storeKind.equals("file") && dir == null) {
      dir = Files.createTempDirectory("torus-nbd-bench");
    }
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    ScheduledExecutorService scheduler =
        Executors.newScheduledThreadPool(2, Threads.daemon("bench-scheduler"));
    opened.push(() -> Threads.stop(scheduler));
    // Room for the volume, its map and the garbage of a few commits before the collector runs.
    long capacityBlocks = 4 * (size / blockSize) + 1024;
    MetadataService metadata;
    BlockStore store;
    if (dir == null) {
      metadata = KvMetadata.inMemory(Clock.systemUTC(), scheduler);
      opened.push(metadata);
      store = BlockStores.inMemory(blockSize, capacityBlocks);
    } else {
      Files.createDirectories(dir);
      ExecutorService io = Executors.newFixedThreadPool(4, Threads.daemon("bench-io"));
      opened.push(() -> Threads.stop(io));
      metadata = EmbeddedMetadata.open(dir.resolve("metadata.db"), Clock.systemUTC(), scheduler);
      opened.push(metadata);
      store = BlockStores.openFile(FileStoreConfig.of(dir.resolve("blocks"), blockSize,
          DataSize.ofBytes(capacityBlocks * blockSize)), io);
    }
    opened.push(store);
    join(metadata.initialize(new GlobalMetadata(blockSize, GlobalMetadata.CRC32C),
        Rings.single(1, new RingMember(new PeerId("bench"), capacityBlocks))));
    VolumeService volumes =
        VolumeService.create(metadata, store, volumeConfig, scheduler, System::nanoTime);
    join(volumes.catalog().create(export, size));
    GarbageCollector gc = GarbageCollector.create(metadata, volumes, store,
        new GcConfig(Duration.ofSeconds(5), Duration.ofSeconds(5), 256), System::nanoTime);
    gc.start(scheduler);
    opened.push(gc);
    VolumeExports exports = ExportResolver.ofVolumes(volumes, false);
    opened.push(exports);
    NbdServer server = NbdServer.start(config.defaultExport(export).build(), exports);
    opened.push(server);

    Path cleanup = temporary ? dir : null;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      closeAll(opened);
      if (cleanup != null) {
        deleteRecursively(cleanup);
      }
      stopped.countDown();
    }));
    System.out.println("serving a " + DataSize.ofBytes(size) + " volume with "
        + DataSize.ofBytes(blockSize) + " blocks (" + storeKind + " store"
        + (dir == null ? "" : " in " + dir) + ") as '" + export + "' on nbd://"
        + server.boundAddress().getHostString() + ":" + server.boundAddress().getPort() + "/"
        + export);
    stopped.await();
  }

  private static void usage(String problem) {
    System.err.println(problem + "; see the class comment of NbdServeBench for usage");
    System.exit(2);
  }

  /** Closes newest first, reporting but not stopping at failures. */
  private static void closeAll(Deque<AutoCloseable> opened) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception e) {
        System.err.println("closing: " + e);
      }
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      System.err.println("cannot remove " + dir + ": " + e);
    }
  }
}
