package dev.torus.gc;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.metadata.ClusterView;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseService;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerRegistry;
import dev.torus.metadata.RingMetadata;
import dev.torus.metadata.VolumeMetadata;
import dev.torus.ring.Ring;
import dev.torus.storage.BlockStore;
import dev.torus.storage.Blocks;
import dev.torus.storage.ForwardingBlockStore;
import dev.torus.storage.StoreStats;
import dev.torus.volume.BlockVolume;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeFixture;
import dev.torus.volume.VolumeService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class GarbageCollectorTest {
  static final int BS = 4096;
  VolumeFixture f;
  final AtomicLong clock = new AtomicLong();

  @BeforeEach
  void setUp() {
    // Writers delete what their commits replace, unless a snapshot held it (see overwrite); an
    // hour keeps their scheduled pass out of these tests, which time the collector by hand.
    f = VolumeFixture.inMemory(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
        .withReclaimDelay(Duration.ofHours(1)));
  }

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  GarbageCollector gc(MetadataService metadata, Duration grace) {
    return GarbageCollector.create(metadata, f.volumes, f.store,
        new GcConfig(Duration.ofMinutes(1), grace, 8), clock::get);
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  byte[] read(String volume) {
    try (BlockVolume v = join(f.volumes.openReadOnly(volume))) {
      return readAll(v);
    }
  }

  void write(String volume, long seed) {
    try (BlockVolume v = join(f.volumes.openWritable(volume))) {
      join(v.write(0, Unpooled.wrappedBuffer(random((int) v.size(), seed))));
    }
  }

  /**
   * Rewrites the whole volume and leaves the old blocks to the collector, as a snapshot that held
   * them when they were replaced and is deleted since does: its writer keeps them.
   */
  void overwrite(String volume, long seed) {
    join(f.volumes.catalog().createSnapshot(volume, "pin"));
    write(volume, seed);
    join(f.volumes.catalog().deleteSnapshot(volume, "pin"));
  }

  @Test
  void reclaimsOverwrittenAndDeletedBlocksOnly() {
    join(f.volumes.catalog().create("keep", 32 * BS));
    join(f.volumes.catalog().create("drop", 32 * BS));
    write("keep", 1);
    overwrite("keep", 2); // every block of the first write is now garbage
    write("drop", 3);
    join(f.volumes.catalog().delete("drop"));
    long before = f.store.stats().usedBlocks();
    GcResult r = join(gc(f.metadata, Duration.ZERO).runOnce());
    assertThat(r.skipped()).isEmpty();
    assertThat(r.deleted()).isEqualTo(before - 33);
    assertThat(f.store.stats().usedBlocks()).as("32 data blocks and one map page").isEqualTo(33);
    assertThat(read("keep")).isEqualTo(random(32 * BS, 2));
  }

  @Test
  void snapshotsAndClonesPinTheirBlocks() {
    join(f.volumes.catalog().create("v", 16 * BS));
    write("v", 1);
    join(f.volumes.catalog().createSnapshot("v", "s"));
    join(f.volumes.catalog().cloneSnapshot("v", "s", "c"));
    write("v", 2);
    join(f.volumes.catalog().delete("v"));
    GarbageCollector gc = gc(f.metadata, Duration.ZERO);
    join(gc.runOnce());
    assertThat(read("c")).isEqualTo(random(16 * BS, 1));
    assertThat(f.store.stats().usedBlocks()).isEqualTo(17);
  }

  @Test
  void keepsBlocksOfAWriterThatHasNotCommittedAndReclaimsThemWhenItDies() {
    join(f.volumes.catalog().create("v", 64 * BS));
    BlockVolume v = join(f.volumes.openWritable("v"));
    join(v.write(0, Unpooled.wrappedBuffer(random(64 * BS, 1))));
    join(v.flush());
    join(v.write(0, Unpooled.wrappedBuffer(random(8 * BS, 2))));
    join(v.flush());
    join(v.write(0, Unpooled.wrappedBuffer(random(8 * BS, 3)))); // in memory only
    GcResult first = join(gc(f.metadata, Duration.ZERO).runOnce());
    assertThat(first.deleted()).as("the blocks superseded by the second commit").isEqualTo(9);
    v.close();
    byte[] expected = random(64 * BS, 1);
    System.arraycopy(random(8 * BS, 3), 0, expected, 0, 8 * BS);
    assertThat(read("v")).isEqualTo(expected);
  }

  @Test
  void aReaderOfAVolumeMovesToTheNewestRootWhenItsBlocksAreCollected() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    join(f.volumes.catalog().createSnapshot("v", "s"));
    try (BlockVolume reader = join(f.volumes.openReadOnly("v"));
        BlockVolume snapshot = join(f.volumes.openSnapshot("v", "s"))) {
      write("v", 2);
      write("v", 3); // its writer deletes the blocks of write 2; the snapshot holds those of 1
      assertThat(readAll(reader)).as("still its own root").isEqualTo(random(4 * BS, 1));
      join(f.volumes.catalog().deleteSnapshot("v", "s"));
      join(gc(f.metadata, Duration.ZERO).runOnce());
      assertThat(readAll(reader)).as("its blocks are gone: the volume as it is now")
          .isEqualTo(random(4 * BS, 3));
      assertThatThrownBy(() -> readAll(snapshot)).as("a snapshot does not move")
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }
  }

  static byte[] readAll(BlockVolume v) {
    return Blocks.drain(join(v.read(0, (int) v.size())));
  }

  @Test
  void waitsForTheGracePeriod() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    GarbageCollector gc = gc(f.metadata, Duration.ofMinutes(2));
    assertThat(join(gc.runOnce()).deleted()).isZero();
    clock.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(join(gc.runOnce()).deleted()).isZero();
    clock.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(join(gc.runOnce()).deleted()).isEqualTo(5);
    assertThat(read("v")).isEqualTo(random(4 * BS, 2));
  }

  /** A collector whose store counts as short of space from {@code usedFraction} full. */
  GarbageCollector pressured(double usedFraction) {
    return GarbageCollector.create(f.metadata, f.volumes, f.store,
        new GcConfig(Duration.ofMinutes(1), Duration.ofMinutes(2), 8,
            new GcConfig.Pressure(usedFraction, Duration.ofSeconds(5), Duration.ofSeconds(10))),
        clock::get);
  }

  /** The share of the fixture's store in use. */
  double used() {
    var stats = f.store.stats();
    return (double) stats.usedBlocks() / stats.capacityBlocks();
  }

  @Test
  void shortensTheGraceWhileTheStoreIsShortOfSpace() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    GarbageCollector gc = pressured(used() * 0.9);
    assertThat(join(gc.runOnce()).deleted()).isZero();
    clock.addAndGet(Duration.ofSeconds(9).toNanos());
    assertThat(join(gc.runOnce()).deleted()).as("9 s: inside the pressure grace").isZero();
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(join(gc.runOnce()).deleted()).as("10 s: the pressure grace has passed")
        .isEqualTo(5);
    assertThat(read("v")).isEqualTo(random(4 * BS, 2));
  }

  @Test
  void keepsTheNormalGraceWhileThereIsSpace() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    GarbageCollector gc = pressured(Math.min(1, used() * 1.1 + 0.01));
    assertThat(join(gc.runOnce()).deleted()).isZero();
    clock.addAndGet(Duration.ofSeconds(10).toNanos());
    assertThat(join(gc.runOnce()).deleted()).isZero();
    clock.addAndGet(Duration.ofMinutes(2).toNanos());
    assertThat(join(gc.runOnce()).deleted()).isEqualTo(5);
  }

  @Test
  void runsCyclesMoreOftenWhileTheStoreIsShortOfSpace() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    // The clock starts at 0, as if start() had been called then; the test ticks by hand.
    GarbageCollector relaxed = pressured(1);
    clock.addAndGet(Duration.ofSeconds(30).toNanos());
    assertThat(join(relaxed.tick())).as("30 s: no cycle due yet").isNull();
    clock.addAndGet(Duration.ofSeconds(30).toNanos());
    assertThat(join(relaxed.tick()).candidates()).as("60 s: a cycle finds the candidates")
        .isEqualTo(5);

    GarbageCollector pressed = pressured(used() * 0.9);
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(pressed.tick()).candidates()).as("+5 s: a cycle").isEqualTo(5);
    clock.addAndGet(Duration.ofSeconds(4).toNanos());
    assertThat(join(pressed.tick())).as("+9 s: none due").isNull();
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(join(pressed.tick()).deleted()).as("+10 s: a cycle, inside the grace").isZero();
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(pressed.tick()).deleted()).as("+15 s: collected").isEqualTo(5);
    assertThat(read("v")).isEqualTo(random(4 * BS, 2));
  }

  /** The fixture's store, reporting 100 blocks of capacity with {@code used} of them in use. */
  BlockStore percentUsed(LongSupplier used) {
    return new ForwardingBlockStore(f.store) {
      @Override
      public StoreStats stats() {
        return new StoreStats(BS, 100, used.getAsLong());
      }
    };
  }

  @Test
  void staysQuickUntilUseFallsTenPointsBelowThePressureLevel() {
    AtomicLong used = new AtomicLong(80);
    GarbageCollector gc = GarbageCollector.create(f.metadata, f.volumes, percentUsed(used::get),
        new GcConfig(Duration.ofMinutes(1), Duration.ofMinutes(2), 8,
            new GcConfig.Pressure(0.8, Duration.ofSeconds(5), Duration.ofSeconds(5))),
        clock::get);
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(gc.tick())).as("80% used: short of space").isNotNull();
    used.set(71);
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(gc.tick())).as("71%: still short of space").isNotNull();
    used.set(69);
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(gc.tick())).as("69%: back to a cycle a minute").isNull();
    used.set(79);
    clock.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(join(gc.tick())).as("79%: not short of space again yet").isNull();
  }

  @Test
  void pressureNeverSlowsACollectorThatIsQuickerAnyway() {
    GarbageCollector gc = GarbageCollector.create(f.metadata, f.volumes, percentUsed(() -> 95),
        new GcConfig(Duration.ofSeconds(1), Duration.ZERO, 8,
            new GcConfig.Pressure(0.8, Duration.ofSeconds(5), Duration.ofSeconds(5))),
        clock::get);
    for (int second = 1; second <= 3; second++) {
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
      assertThat(join(gc.tick())).as("%d s: a cycle every second", second).isNotNull();
    }
  }

  @Test
  void countsItsCyclesAndDeletionsInMetrics() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    AtomicBoolean broken = new AtomicBoolean(true);
    GarbageCollector gc = gc(flaky(f.metadata, broken), Duration.ZERO);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    gc.bindTo(meters);
    join(gc.runOnce());
    broken.set(false);
    join(gc.runOnce());
    assertThat(meters.get("torus_gc_cycles").tag("outcome", "skipped").functionCounter().count())
        .isEqualTo(1);
    assertThat(meters.get("torus_gc_cycles").tag("outcome", "completed").functionCounter().count())
        .isEqualTo(1);
    assertThat(meters.get("torus_gc_deleted_blocks").functionCounter().count()).isEqualTo(5);
    assertThat(meters.get("torus_gc_short_of_space").gauge().value()).isZero();
  }

  @Test
  void skipsTheCycleWhenMetadataCannotBeRead() {
    join(f.volumes.catalog().create("v", 4 * BS));
    write("v", 1);
    overwrite("v", 2);
    AtomicBoolean broken = new AtomicBoolean(true);
    GcResult r = join(gc(flaky(f.metadata, broken), Duration.ZERO).runOnce());
    assertThat(r.skipped()).hasValueSatisfying(s -> assertThat(s).contains("metadata unreadable"));
    assertThat(f.store.stats().usedBlocks()).isEqualTo(10);
  }

  @Test
  void skipsTheCycleWhenAMapPageIsMissing() {
    join(f.volumes.catalog().create("a", 4 * BS));
    join(f.volumes.catalog().create("b", 4 * BS));
    write("a", 1);
    write("b", 2);
    write("b", 3);
    var root = join(f.metadata.volumes().root(join(f.volumes.catalog().get("a")).id())).value();
    join(f.store.deleteBlock(root.page()));
    long before = f.store.stats().usedBlocks();
    VolumeService uncached = VolumeService.create(f.metadata, f.store, VolumeConfig.DEFAULT,
        f.scheduler, System::nanoTime);
    GcResult r = join(GarbageCollector.create(f.metadata, uncached, f.store,
        new GcConfig(Duration.ofMinutes(1), Duration.ZERO, 8), clock::get).runOnce());
    assertThat(r.skipped()).hasValueSatisfying(s -> assertThat(s).contains("unreadable"));
    assertThat(f.store.stats().usedBlocks()).isEqualTo(before);
  }

  /** Delegates everything, but its view fails while {@code broken} is set. */
  static MetadataService flaky(MetadataService m, AtomicBoolean broken) {
    return new MetadataService() {
      @Override
      public String location() {
        return m.location();
      }

      @Override
      public CompletableFuture<Void> initialize(GlobalMetadata global, Ring ring) {
        return m.initialize(global, ring);
      }

      @Override
      public CompletableFuture<GlobalMetadata> global() {
        return m.global();
      }

      @Override
      public CompletableFuture<Void> wipe() {
        return m.wipe();
      }

      @Override
      public VolumeMetadata volumes() {
        return m.volumes();
      }

      @Override
      public RingMetadata rings() {
        return m.rings();
      }

      @Override
      public PeerRegistry peers() {
        return m.peers();
      }

      @Override
      public LeaseService leases() {
        return m.leases();
      }

      @Override
      public CompletableFuture<ClusterView> view() {
        return broken.get()
            ? CompletableFuture.failedFuture(TorusExceptions.unavailable("etcd is down", null))
            : m.view();
      }

      @Override
      public void close() {}
    };
  }
}
