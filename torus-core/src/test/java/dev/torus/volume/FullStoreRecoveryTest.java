package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusAssertions;
import dev.torus.TorusException;
import dev.torus.gc.GarbageCollector;
import dev.torus.gc.GcConfig;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import dev.torus.storage.Blocks;
import dev.torus.storage.FileStoreConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume rewritten whole, again and again, on a durable store with room for the volume and half
 * of it again: each rewrite fills the store, and the volume gets through by itself, with commits
 * that land what was stored and collection that frees what they superseded.
 */
@Timeout(120)
final class FullStoreRecoveryTest {
  static final int BS = 4096;
  static final int BLOCKS = 64;
  static final int ROUNDS = 8;

  @TempDir Path dir;
  final ExecutorService io = Executors.newFixedThreadPool(2);
  final AtomicLong clock = new AtomicLong();
  VolumeFixture f;

  @AfterEach
  void tearDown() throws Exception {
    f.close();
    io.shutdownNow();
  }

  @Test
  void rewritesThatFillTheStoreGetThroughWithoutAReopen() {
    // Flushes fail at once when the store is full: the test runs the collector between tries.
    f = VolumeFixture.build(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
            .withFullStoreWait(Duration.ZERO),
        s -> KvMetadata.inMemory(Clock.systemUTC(), s),
        BlockStores.openFile(FileStoreConfig.of(dir, BS, DataSize.ofBytes(96L * BS)), io));
    GarbageCollector gc = GarbageCollector.create(f.metadata, f.volumes, f.store,
        new GcConfig(Duration.ofMinutes(1), Duration.ofMinutes(2), 64), clock::get);
    join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
    byte[] data = new byte[0];
    int refusedFlushes = 0;
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      for (int round = 1; round <= ROUNDS; round++) {
        data = Blocks.random(BLOCKS * BS, round);
        join(v.write(0, Unpooled.wrappedBuffer(data)));
        int attempts = 0;
        while (!flushed(v)) {
          refusedFlushes++;
          assertThat(++attempts).as("round %d: flushes refused for lack of room", round)
              .isLessThan(5);
          // Two cycles the pressure grace apart: the second deletes what the first found.
          join(gc.runOnce());
          clock.addAndGet(Duration.ofSeconds(10).toNanos());
          join(gc.runOnce());
        }
        assertThat(Blocks.drain(join(v.read(0, BLOCKS * BS)))).isEqualTo(data);
      }
    }
    assertThat(refusedFlushes).as("the store was too small to rewrite the volume in one commit")
        .isGreaterThanOrEqualTo(ROUNDS - 1);
    try (BlockVolume reader = join(f.volumes.openReadOnly("v"))) {
      assertThat(Blocks.drain(join(reader.read(0, BLOCKS * BS)))).isEqualTo(data);
    }
  }

  @Test
  void aWriteStalledOnTheFullStoreGoesOnOnceCollectionFreesRoom() throws Exception {
    // Background commits and collection at a quick pace, as under pressure on a node; a dirty
    // limit of 8 blocks makes the rewrite go to the store before the next commit.
    f = VolumeFixture.build(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ofMillis(200))
            .withDirtyLimit(DataSize.ofBytes(8L * BS)).withFullStoreWait(Duration.ofSeconds(60)),
        s -> KvMetadata.inMemory(Clock.systemUTC(), s),
        BlockStores.openFile(FileStoreConfig.of(dir, BS, DataSize.ofBytes(96L * BS)), io));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    f.volumes.bindTo(meters);
    join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
    byte[] second = Blocks.random(BLOCKS * BS, 2);
    try (GarbageCollector gc = GarbageCollector.create(f.metadata, f.volumes, f.store,
            new GcConfig(Duration.ofMillis(100), Duration.ZERO, 64), System::nanoTime);
        BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(Blocks.random(BLOCKS * BS, 1))));
      join(v.flush());
      gc.start(f.scheduler);
      // The store has room for about half of the rewrite until the first version is collected,
      // which takes a commit of what was stored, then a collection.
      join(v.write(0, Unpooled.wrappedBuffer(second)), Duration.ofSeconds(60));
      assertThat(meters.get("torus_volume_failed_write_backs").functionCounter().count())
          .as("the store refused write-backs").isPositive();
      assertThat(meters.get("torus_volume_stalled_writes").functionCounter().count()).isOne();
      // A flush stores everything or fails at once; room comes with the next collections.
      TorusAssertions.eventually(() -> flushed(v), Duration.ofSeconds(60));
      assertThat(Blocks.drain(join(v.read(0, BLOCKS * BS)))).isEqualTo(second);
    }
    try (BlockVolume reader = join(f.volumes.openReadOnly("v"))) {
      assertThat(Blocks.drain(join(reader.read(0, BLOCKS * BS)))).isEqualTo(second);
    }
    assertThat(meters.get("torus_volume_failed_stalled_writes").functionCounter().count()).isZero();
  }

  /** Flushes; false if the store had no room for all of it. */
  static boolean flushed(BlockVolume v) {
    try {
      join(v.flush());
      return true;
    } catch (TorusException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.OUT_OF_SPACE);
      return false;
    }
  }
}
