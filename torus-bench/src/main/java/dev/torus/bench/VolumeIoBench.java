package dev.torus.bench;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.PeerId;
import dev.torus.gc.GarbageCollector;
import dev.torus.gc.GcConfig;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.volume.BlockVolume;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The volume's own cost per request, without NBD, the network or a client: 4 KiB random and 1
 * MiB sequential reads and writes on a filled 256 MiB in-memory volume, per block size. The same
 * jobs as {@code bench/nbd-fio.sh}, one at a time (queue depth 1) on the calling thread; the
 * default background commit runs every 5 s and a garbage collector every 5 s, as when {@code
 * NbdServeBench} serves the volume.
 *
 * <pre>
 * bench/run org.openjdk.jmh.Main VolumeIoBench [-p blockSize=16384]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:MaxDirectMemorySize=6g"})
public class VolumeIoBench {
  private static final long SIZE = 256L << 20;
  private static final int SMALL = 4096;
  private static final int LARGE = 1 << 20;

  @Param({"4096", "16384", "65536", "262144"})
  int blockSize;

  private ScheduledExecutorService scheduler;
  private MetadataService metadata;
  private BlockStore store;
  private GarbageCollector gc;
  private BlockVolume volume;
  private final SplittableRandom random = new SplittableRandom(7);
  private ByteBuf small;
  private ByteBuf large;
  private long next;

  @Setup(Level.Trial)
  public void setUp() {
    scheduler = Executors.newScheduledThreadPool(2, Threads.daemon("bench"));
    metadata = KvMetadata.inMemory(Clock.systemUTC(), scheduler);
    // Writes here outrun the collector (no network in between): room for eight volumes of garbage.
    long capacity = 8 * (SIZE / blockSize) + 1024;
    store = BlockStores.inMemory(blockSize, capacity);
    join(metadata.initialize(new GlobalMetadata(blockSize, GlobalMetadata.CRC32C),
        Rings.single(1, new RingMember(new PeerId("bench"), capacity))));
    VolumeService volumes = VolumeService.create(metadata, store, VolumeConfig.DEFAULT, scheduler,
        System::nanoTime);
    join(volumes.catalog().create("bench", SIZE));
    gc = GarbageCollector.create(metadata, volumes, store,
        new GcConfig(Duration.ofSeconds(5), Duration.ofSeconds(5), 256), System::nanoTime);
    gc.start(scheduler);
    volume = join(volumes.openWritable("bench"));
    byte[] bytes = new byte[LARGE];
    random.nextBytes(bytes);
    large = Unpooled.directBuffer(LARGE).writeBytes(bytes);
    small = Unpooled.directBuffer(SMALL).writeBytes(bytes, 0, SMALL);
    for (long at = 0; at < SIZE; at += LARGE) {
      join(volume.write(at, large.retainedDuplicate()));
    }
    join(volume.flush());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    volume.close();
    gc.close();
    small.release();
    large.release();
    store.close();
    metadata.close();
    Threads.stop(scheduler);
  }

  @Benchmark
  public int randomRead4k() {
    ByteBuf b = join(volume.read(random.nextLong(SIZE / SMALL) * SMALL, SMALL));
    int n = b.readableBytes();
    b.release();
    return n;
  }

  @Benchmark
  public int sequentialRead1m() {
    ByteBuf b = join(volume.read(nextLarge(), LARGE));
    int n = b.readableBytes();
    b.release();
    return n;
  }

  @Benchmark
  public void randomWrite4k() {
    join(volume.write(random.nextLong(SIZE / SMALL) * SMALL, small.retainedDuplicate()));
  }

  @Benchmark
  public void sequentialWrite1m() {
    join(volume.write(nextLarge(), large.retainedDuplicate()));
  }

  private long nextLarge() {
    long at = next;
    next = (next + LARGE) % SIZE;
    return at;
  }
}
