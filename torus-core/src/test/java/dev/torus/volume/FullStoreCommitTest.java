package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusAssertions;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.gc.GarbageCollector;
import dev.torus.gc.GcConfig;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import dev.torus.storage.Blocks;
import dev.torus.storage.ForwardingBlockStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Commits when the store runs out of room: what was stored is committed, the rest stays pending
 * and is committed once there is room, and garbage collection in between deletes nothing live.
 * A store that refuses at once once made a write spin forever: the timeout turns that into a
 * failure.
 */
@Timeout(60)
final class FullStoreCommitTest {
  static final int BS = 4096;
  static final int BLOCKS = 16;

  /** Takes {@code dataRoom} more data puts, then fails them with {@code whenFull}; pages fit. */
  static final class ShrinkingStore extends ForwardingBlockStore {
    final AtomicInteger dataRoom = new AtomicInteger(Integer.MAX_VALUE);
    volatile TorusException whenFull = TorusExceptions.outOfSpace("test store is full");

    ShrinkingStore() {
      super(BlockStores.inMemory(BS, 1 << 16));
    }

    @Override
    public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
      return refused(ref, data) ? CompletableFuture.failedFuture(whenFull) : store.putBlock(ref, data);
    }

    @Override
    public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
      return refused(ref, data)
          ? CompletableFuture.failedFuture(whenFull)
          : store.putBlock(ref, data, crc);
    }

    private boolean refused(BlockRef ref, ByteBuf data) {
      if (ref.type() == BlockType.DATA && dataRoom.getAndDecrement() <= 0) {
        data.release();
        return true;
      }
      return false;
    }
  }

  /** A flush that cannot store everything fails at once instead of waiting for room. */
  static final VolumeConfig FLUSH_FAILS_AT_ONCE = VolumeConfig.DEFAULT.withFullStoreWait(Duration.ZERO);

  final ShrinkingStore store = new ShrinkingStore();
  VolumeFixture f;

  void open(VolumeConfig config) {
    f = VolumeFixture.build(BS, config.withCommitInterval(Duration.ZERO),
        s -> KvMetadata.inMemory(Clock.systemUTC(), s), store);
    join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
  }

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  static byte[] random(int n, long seed) {
    return Blocks.random(n, seed);
  }

  static byte[] read(BlockVolume v) {
    return Blocks.drain(join(v.read(0, (int) v.size())));
  }

  byte[] committed() {
    try (BlockVolume reader = join(f.volumes.openReadOnly("v"))) {
      return read(reader);
    }
  }

  /** How many blocks of {@code actual} equal those of {@code expected}. */
  static int sameBlocks(byte[] actual, byte[] expected) {
    int same = 0;
    for (int i = 0; i < BLOCKS; i++) {
      same += Arrays.equals(actual, i * BS, (i + 1) * BS, expected, i * BS, (i + 1) * BS) ? 1 : 0;
    }
    return same;
  }

  /** Opens with a dirty limit of 4 blocks, so writes far over it stall; returns its metrics. */
  SimpleMeterRegistry openWithSmallDirtyLimit(Duration fullStoreWait) {
    open(VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS))
        .withFullStoreWait(fullStoreWait));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    f.volumes.bindTo(meters);
    return meters;
  }

  static AbstractThrowableAssert<?, ? extends Throwable> assertOutOfSpace(ThrowingCallable call) {
    return assertThatThrownBy(call).isInstanceOfSatisfying(TorusException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.OUT_OF_SPACE));
  }

  static double count(SimpleMeterRegistry meters, String name) {
    return meters.get(name).functionCounter().count();
  }

  void collectWithoutGrace() {
    GarbageCollector gc = GarbageCollector.create(f.metadata, f.volumes, store,
        new GcConfig(Duration.ofMinutes(1), Duration.ZERO, 8), System::nanoTime);
    join(gc.runOnce());
    join(gc.runOnce());
  }

  @Test
  void commitsTheBlocksThatWereStoredAndTheRestOnceThereIsRoom() {
    open(FLUSH_FAILS_AT_ONCE);
    byte[] data = random(BLOCKS * BS, 1);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      store.dataRoom.set(10);
      assertOutOfSpace(() -> join(v.flush()))
          .hasMessageContaining("committed 10 changed blocks")
          .hasMessageContaining("no room for 6 more");
      assertThat(read(v)).as("the writer still reads everything it wrote").isEqualTo(data);
      assertThat(sameBlocks(committed(), data)).as("a reader sees the committed part").isEqualTo(10);
      assertThat(sameBlocks(committed(), new byte[BLOCKS * BS])).isEqualTo(6);

      collectWithoutGrace();
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
    }
    collectWithoutGrace();
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aRefusedBlockIsStoredUnderANewRefSoTheCollectorCannotTakeIt() {
    // A small dirty limit makes later writes write blocks back before the next commit.
    open(FLUSH_FAILS_AT_ONCE.withDirtyLimit(DataSize.ofBytes(4 * BS)));
    byte[] data = random(BLOCKS * BS, 2);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      store.dataRoom.set(10);
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      assertThatThrownBy(() -> join(v.flush())).isInstanceOf(TorusException.class)
          .hasMessageContaining("no room for");
      assertThat(sameBlocks(committed(), data)).isEqualTo(10);

      store.dataRoom.set(Integer.MAX_VALUE);
      byte[] first = random(BS, 3);
      join(v.write(0, Unpooled.wrappedBuffer(first))); // writes the refused blocks back
      System.arraycopy(first, 0, data, 0, BS);
      collectWithoutGrace();
      join(v.flush());
      assertThat(read(v)).isEqualTo(data);
    }
    collectWithoutGrace();
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aCommitThatStoredEverythingEndsAnEarlierWriteBackFailure() {
    open(VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS))
        .withFullStoreWait(Duration.ofMillis(100)));
    byte[] data = random(BLOCKS * BS, 7);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      store.dataRoom.set(0);
      byte[] refused = random(BLOCKS * BS, 6);
      for (int i = 0; i < 2; i++) {
        // Far over the dirty limit, and its write-backs fail.
        assertOutOfSpace(() -> join(v.write(0, Unpooled.wrappedBuffer(refused))));
      }
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aStoreThatRefusesIsNotAskedAgainForEveryWrite() {
    open(VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS)));
    int writes = 2000;
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      store.dataRoom.set(0);
      long start = System.nanoTime();
      for (int i = 0; i < writes; i++) { // rewrites of 8 blocks: over the limit, never twice over
        join(v.write((long) (i % 8) * BS, Unpooled.wrappedBuffer(random(BS, i))));
      }
      long elapsed = System.nanoTime() - start;
      int asked = -store.dataRoom.get();
      // The first batch (at most the 8 blocks), then one block after each pause; the pauses
      // double from the first to the longest.
      long pauses = 1 + Long.numberOfTrailingZeros(Long.highestOneBit(
          DirtyBlocks.LONGEST_PAUSE / DirtyBlocks.FIRST_PAUSE)) + elapsed / DirtyBlocks.LONGEST_PAUSE;
      assertThat(asked).as("puts tried in %d ms", elapsed / 1_000_000)
          .isPositive().isLessThanOrEqualTo((int) (8 + pauses));
      store.dataRoom.set(Integer.MAX_VALUE);
    }
  }

  @Test
  void aWriteFarOverTheLimitWaitsForRoomInsteadOfFailing() throws Exception {
    SimpleMeterRegistry meters = openWithSmallDirtyLimit(Duration.ofSeconds(30));
    byte[] data = random(BLOCKS * BS, 9);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      store.dataRoom.set(0);
      CompletableFuture<Void> write = v.write(0, Unpooled.wrappedBuffer(data));
      TorusAssertions.eventually(() -> store.dataRoom.get() < -BLOCKS, Duration.ofSeconds(10));
      assertThat(write).as("waits while the store refuses, probing it").isNotDone();
      assertThat(count(meters, "torus_volume_stalled_writes")).isEqualTo(1);
      assertThat(count(meters, "torus_volume_failed_write_backs")).as("each refused put")
          .isGreaterThan(BLOCKS).isLessThanOrEqualTo(-store.dataRoom.get());
      store.dataRoom.set(Integer.MAX_VALUE); // the collector freed space
      write.get(10, TimeUnit.SECONDS);
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
    assertThat(count(meters, "torus_volume_failed_stalled_writes")).isZero();
  }

  @Test
  void aStalledWriteStopsWaitingWhenTheWriterIsFenced() throws Exception {
    open(VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS))
        .withFullStoreWait(Duration.ofSeconds(60)).withLeaseTtl(Duration.ofSeconds(2)));
    BlockVolume v = join(f.volumes.openWritable("v"));
    store.dataRoom.set(0);
    CompletableFuture<Void> write = v.write(0, Unpooled.wrappedBuffer(random(BLOCKS * BS, 11)));
    TorusAssertions.eventually(() -> store.dataRoom.get() < -BLOCKS, Duration.ofSeconds(10));
    assertThat(write).isNotDone();
    f.metadata.close(); // the write lock's lease can no longer be renewed
    assertThatThrownBy(() -> write.get(30, TimeUnit.SECONDS))
        .as("fails within the lease's TTL, not after fullStoreWait")
        .hasCauseInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e.getCause()).code())
            .isEqualTo(ErrorCode.LOCKED));
    v.close();
  }

  @Test
  void aWriteFarOverTheLimitFailsWhenTheStoreStaysFull() {
    SimpleMeterRegistry meters = openWithSmallDirtyLimit(Duration.ofMillis(300));
    byte[] data = random(BLOCKS * BS, 10);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      store.dataRoom.set(0);
      assertOutOfSpace(() -> join(v.write(0, Unpooled.wrappedBuffer(data))))
          .hasMessageContaining("cannot write back data");
      assertThat(count(meters, "torus_volume_stalled_writes")).isEqualTo(1);
      assertThat(count(meters, "torus_volume_failed_stalled_writes")).isEqualTo(1);
      assertThat(read(v)).as("what it holds in memory stays readable").isEqualTo(data);
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void closeWaitsForRoomInsteadOfLosingTheWritesSinceTheLastCommit() throws Exception {
    open(VolumeConfig.DEFAULT);
    byte[] data = random(BLOCKS * BS, 8);
    BlockVolume v = join(f.volumes.openWritable("v"));
    join(v.write(0, Unpooled.wrappedBuffer(data)));
    store.dataRoom.set(10);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(v::close);
    TorusAssertions.eventually(() -> store.dataRoom.get() < 0, Duration.ofSeconds(10));
    assertThat(closing).as("still waiting for room").isNotDone();
    store.dataRoom.set(Integer.MAX_VALUE); // the collector freed space
    closing.get(30, TimeUnit.SECONDS);
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aFlushWaitsForRoomAndLandsEverything() throws Exception {
    open(VolumeConfig.DEFAULT.withFullStoreWait(Duration.ofSeconds(30)));
    byte[] data = random(BLOCKS * BS, 12);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      store.dataRoom.set(10);
      CompletableFuture<Void> flush = v.flush();
      TorusAssertions.eventually(() -> store.dataRoom.get() < 0, Duration.ofSeconds(10));
      assertThat(flush).as("waits, with 10 of 16 blocks committed").isNotDone();
      assertThat(sameBlocks(committed(), data)).isEqualTo(10);
      collectWithoutGrace();
      store.dataRoom.set(Integer.MAX_VALUE);
      flush.get(10, TimeUnit.SECONDS);
    }
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aFlushThatFindsNoRoomInTimeFailsAndSaysWhatItCommitted() {
    open(VolumeConfig.DEFAULT.withFullStoreWait(Duration.ofMillis(300)));
    byte[] data = random(BLOCKS * BS, 13);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      store.dataRoom.set(10);
      assertOutOfSpace(() -> join(v.flush()))
          .hasMessageContaining("no room in the store within 300 ms");
      assertThat(sameBlocks(committed(), data)).as("what fitted is committed").isEqualTo(10);
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void aCommitThatStoredNothingLeavesTheRootAlone() {
    open(FLUSH_FAILS_AT_ONCE);
    byte[] data = random(BLOCKS * BS, 4);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      store.dataRoom.set(0);
      assertOutOfSpace(() -> join(v.flush()));
      assertThat(committed()).isEqualTo(new byte[BLOCKS * BS]);
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
  }

  @Test
  void otherFailuresFailTheWholeCommit() {
    open(VolumeConfig.DEFAULT);
    byte[] data = random(BLOCKS * BS, 5);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      store.whenFull = TorusExceptions.unavailable("peer is down", null);
      store.dataRoom.set(10);
      assertThatThrownBy(() -> join(v.flush())).isInstanceOfSatisfying(TorusException.class,
          e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
      assertThat(committed()).as("nothing committed").isEqualTo(new byte[BLOCKS * BS]);
      store.dataRoom.set(Integer.MAX_VALUE);
      join(v.flush());
    }
    assertThat(committed()).isEqualTo(data);
  }
}
