package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static dev.torus.storage.Blocks.drain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockType;
import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class BlockVolumeTest {
  static final int BS = 4096;
  VolumeFixture f;

  @BeforeEach
  void setUp() {
    f = VolumeFixture.inMemory(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO));
  }

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void newVolumeReadsZeroAndIsAllHole() {
    join(f.volumes.catalog().create("v", 10L << 30));
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(v.size()).isEqualTo(10L << 30);
      assertThat(drain(join(v.read(5L << 30, 3 * BS)))).isEqualTo(new byte[3 * BS]);
      assertThat(join(v.allocation(0, v.size()))).containsExactly(new Extent(0, 10L << 30, true));
    }
    assertThat(f.store.stats().usedBlocks()).isZero();
  }

  @Test
  void writesAreVisibleBeforeAndAfterCommitAndReopen() {
    join(f.volumes.catalog().create("v", 1 << 20));
    byte[] data = random(10_000, 1);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(1234, Unpooled.wrappedBuffer(data)));
      assertThat(drain(join(v.read(1234, data.length)))).isEqualTo(data);
      join(v.flush());
      assertThat(drain(join(v.read(1234, data.length)))).isEqualTo(data);
      join(v.write(2000, Unpooled.wrappedBuffer(new byte[] {7, 7, 7})));
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      byte[] expected = data.clone();
      Arrays.fill(expected, 2000 - 1234, 2003 - 1234, (byte) 7);
      assertThat(drain(join(v.read(1234, data.length)))).isEqualTo(expected);
      assertThat(drain(join(v.read(0, 1234)))).isEqualTo(new byte[1234]);
      List<Extent> map = join(v.allocation(0, v.size()));
      assertThat(map).containsExactly(new Extent(0, 3 * BS, false), new Extent(3 * BS, (1 << 20) - 3 * BS, true));
    }
  }

  @Test
  void secondWriterIsLockedOutAndReadersAreNot() {
    join(f.volumes.catalog().create("v", 1 << 20));
    try (BlockVolume w = join(f.volumes.openWritable("v"))) {
      assertThatThrownBy(() -> join(f.volumes.openWritable("v")))
          .isInstanceOf(TorusException.class).hasMessageContaining("open for writing")
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.LOCKED));
      try (BlockVolume r = join(f.volumes.openReadOnly("v"))) {
        assertThatThrownBy(() -> join(r.write(0, Unpooled.wrappedBuffer(new byte[1]))))
            .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.READ_ONLY));
      }
      assertThatThrownBy(() -> join(f.volumes.catalog().delete("v")))
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.LOCKED));
    }
    join(f.volumes.openWritable("v")).close();
  }

  @Test
  void outOfRangeAndClosedAreClearErrors() {
    join(f.volumes.catalog().create("v", 8192));
    BlockVolume v = join(f.volumes.openWritable("v"));
    assertThatThrownBy(() -> join(v.read(8000, 500))).hasMessageContaining("outside");
    ByteBuf buf = Unpooled.wrappedBuffer(new byte[500]);
    assertThatThrownBy(() -> join(v.write(8000, buf))).hasMessageContaining("outside");
    assertThat(buf.refCnt()).as("the device released the rejected buffer").isZero();
    v.close();
    assertThatThrownBy(() -> join(v.read(0, 1)))
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.CLOSED));
  }

  @Test
  void aDamagedBlockIsReportedNeverReturnedAndTheRestStaysReadable() {
    join(f.volumes.catalog().create("v", 4 * BS));
    byte[] data = random(4 * BS, 11);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
    }
    // Replace one stored data block with other bytes of the right size under the same ref, as a
    // bad disk or a confused replica would: the store is happy, the volume's map is not.
    var damaged = join(f.store.listBlocks()).stream()
        .filter(r -> r.type() == BlockType.DATA).findFirst().orElseThrow();
    join(f.store.putBlock(damaged, Unpooled.wrappedBuffer(random(BS, 12))));
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      int hits = 0;
      for (long block = 0; block < 4; block++) {
        var read = v.read(block * BS, BS);
        try {
          assertThat(drain(join(read))).isEqualTo(Arrays.copyOfRange(data,
              (int) block * BS, (int) (block + 1) * BS));
        } catch (TorusException e) {
          assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
          assertThat(e.getMessage()).contains("checksum").contains("'v'");
          hits++;
        }
      }
      assertThat(hits).as("exactly the damaged block fails").isEqualTo(1);
    }
  }

  @Test
  void trimAndZeroesMakeHolesAndFreeNothingLive() {
    join(f.volumes.catalog().create("v", 64 * BS));
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(random(64 * BS, 2))));
      join(v.flush());
      join(v.trim(BS + 100, 4 * BS));
      join(v.writeZeroes(10 * BS, 2 * BS));
      join(v.flush());
      byte[] expected = random(64 * BS, 2);
      Arrays.fill(expected, BS + 100, 5 * BS + 100, (byte) 0);
      Arrays.fill(expected, 10 * BS, 12 * BS, (byte) 0);
      assertThat(drain(join(v.read(0, 64 * BS)))).isEqualTo(expected);
      assertThat(join(v.allocation(0, 64 * BS))).containsExactly(
          new Extent(0, 2 * BS, false), new Extent(2 * BS, 3 * BS, true),
          new Extent(5 * BS, 5 * BS, false), new Extent(10 * BS, 2 * BS, true),
          new Extent(12 * BS, 52 * BS, false));
    }
  }

  @Test
  void zeroBlocksAreNotStored() {
    join(f.volumes.catalog().create("v", 1 << 20));
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(new byte[1 << 20])));
      join(v.flush());
      assertThat(join(v.allocation(0, 1 << 20))).containsExactly(new Extent(0, 1 << 20, true));
    }
    assertThat(f.store.stats().usedBlocks()).isZero();
  }

  @Test
  void commitCostDoesNotGrowWithVolumeSize() {
    join(f.volumes.catalog().create("small", 1 << 30));
    join(f.volumes.catalog().create("huge", 1L << 40));
    long small = pagesWrittenByOneSmallCommit("small");
    long huge = pagesWrittenByOneSmallCommit("huge");
    assertThat(huge).isLessThanOrEqualTo(small + 3);
  }

  private long pagesWrittenByOneSmallCommit(String name) {
    try (BlockVolume v = join(f.volumes.openWritable(name))) {
      Random r = new Random(3);
      for (int i = 0; i < 200; i++) {
        long block = (r.nextLong() & Long.MAX_VALUE) % (v.size() / BS);
        join(v.write(block * BS, Unpooled.wrappedBuffer(random(BS, i))));
      }
      join(v.flush());
      long before = f.store.stats().usedBlocks();
      join(v.write(0, Unpooled.wrappedBuffer(random(BS, 99))));
      join(v.flush());
      return f.store.stats().usedBlocks() - before;
    }
  }

  @Test
  void resizeGrowsAndRefusesToShrink() {
    join(f.volumes.catalog().create("v", 3 * BS));
    byte[] data = random(3 * BS, 4);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      join(v.resize(1L << 40));
      assertThat(v.size()).isEqualTo(1L << 40);
      join(v.write((1L << 40) - BS, Unpooled.wrappedBuffer(random(BS, 5))));
      assertThatThrownBy(() -> join(v.resize(BS)))
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }
    assertThat(join(f.volumes.catalog().get("v")).size()).isEqualTo(1L << 40);
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read(0, 3 * BS)))).isEqualTo(data);
      assertThat(drain(join(v.read((1L << 40) - BS, BS)))).isEqualTo(random(BS, 5));
    }
    long used = f.store.stats().usedBlocks();
    join(f.volumes.catalog().resize("v", 2L << 40));
    assertThat(f.store.stats().usedBlocks()).as("growing writes no blocks").isEqualTo(used);
    assertThat(join(f.volumes.catalog().get("v")).size()).isEqualTo(2L << 40);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write((2L << 40) - 10, Unpooled.wrappedBuffer(new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9})));
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read((2L << 40) - 12, 12)))).containsExactly(0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9);
      assertThat(drain(join(v.read(0, 3 * BS)))).isEqualTo(data);
    }
    assertThatThrownBy(() -> join(f.volumes.catalog().resize("v", 1)))
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }

  @Test
  void snapshotRestoreAndCloneShareBlocks() {
    join(f.volumes.catalog().create("v", 16 * BS));
    byte[] first = random(16 * BS, 6);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(first)));
      join(v.snapshot("s1"));
      long used = f.store.stats().usedBlocks();
      join(v.write(0, Unpooled.wrappedBuffer(random(BS, 7))));
      join(v.flush());
      assertThat(f.store.stats().usedBlocks() - used).as("one block and one page copied on write")
          .isEqualTo(2);
      assertThatThrownBy(() -> join(f.volumes.catalog().restoreSnapshot("v", "s1")))
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.LOCKED));
    }
    try (BlockVolume s = join(f.volumes.openSnapshot("v", "s1"))) {
      assertThat(drain(join(s.read(0, 16 * BS)))).isEqualTo(first);
    }
    join(f.volumes.catalog().cloneSnapshot("v", "s1", "c"));
    try (BlockVolume c = join(f.volumes.openWritable("c"))) {
      assertThat(drain(join(c.read(0, 16 * BS)))).isEqualTo(first);
      join(c.write(BS, Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
    }
    join(f.volumes.catalog().restoreSnapshot("v", "s1"));
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read(0, 16 * BS)))).isEqualTo(first);
    }
    try (BlockVolume c = join(f.volumes.openReadOnly("c"))) {
      assertThat(drain(join(c.read(BS, 3)))).containsExactly(1, 2, 3);
    }
  }

  @Test
  void dirtyDataBeyondTheLimitIsWrittenBackAndStaysReadable() throws Exception {
    f.close();
    f = VolumeFixture.inMemory(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
        .withDirtyLimit(DataSize.ofKibibytes(64)));
    join(f.volumes.catalog().create("v", 4 << 20));
    byte[] data = random(4 << 20, 8);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      for (int off = 0; off < data.length; off += 3000) {
        int n = Math.min(3000, data.length - off);
        join(v.write(off, Unpooled.wrappedBuffer(data, off, n)));
      }
      assertThat(f.store.stats().usedBlocks()).as("written back before any commit").isPositive();
      assertThat(drain(join(v.read(0, data.length)))).isEqualTo(data);
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read(0, data.length)))).isEqualTo(data);
    }
  }

  @Test
  void theVolumesOfOneServiceShareTheDirtyLimit() throws Exception {
    f.close();
    f = VolumeFixture.inMemory(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
        .withDirtyLimit(DataSize.ofKibibytes(64)));
    int limitBlocks = 16;
    join(f.volumes.catalog().create("a", 1 << 20));
    join(f.volumes.catalog().create("b", 1 << 20));
    byte[] data = random(limitBlocks * BS, 11);
    VolumeHandle b = (VolumeHandle) join(f.volumes.openWritable("b"));
    try (VolumeHandle a = (VolumeHandle) join(f.volumes.openWritable("a"))) {
      join(a.write(0, Unpooled.wrappedBuffer(data, 0, 12 * BS)));
      join(b.write(0, Unpooled.wrappedBuffer(data, 0, 8 * BS)));
      join(b.writeBacksDone());
      assertThat(a.dirtyBytes()).as("the volume not being written keeps its blocks")
          .isEqualTo(12L * BS);
      assertThat(b.dirtyBytes()).as("the one being written holds what the limit leaves")
          .isLessThanOrEqualTo(4L * BS);
      assertThat(drain(join(b.read(0, 8 * BS)))).isEqualTo(Arrays.copyOf(data, 8 * BS));
    }
    try (b) {
      join(b.write(8L * BS, Unpooled.wrappedBuffer(data, 8 * BS, 8 * BS)));
      join(b.writeBacksDone());
      assertThat(b.dirtyBytes()).as("a closed volume gives its share back")
          .isGreaterThanOrEqualTo(8L * BS);
      assertThat(drain(join(b.read(0, 16 * BS)))).isEqualTo(data);
    }
  }

  /** Replaces the fixture with one over a {@link GatedStore}, with this dirty limit. */
  private GatedStore gatedStore(DataSize dirtyLimit) throws Exception {
    f.close();
    GatedStore store = new GatedStore(BlockStores.inMemory(BS, 1 << 20));
    f = VolumeFixture.build(BS, VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
        .withDirtyLimit(dirtyLimit), s -> KvMetadata.inMemory(Clock.systemUTC(), s), store);
    return store;
  }

  @Test
  void aReadOfSeveralBlocksAsksTheStoreForThemInParallel() throws Exception {
    GatedStore store = gatedStore(DataSize.ofMebibytes(1));
    join(f.volumes.catalog().create("v", 1 << 20));
    byte[] data = random(4 * BS, 13);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(data)));
      join(v.flush());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read(BS + 10, 100))))
          .isEqualTo(Arrays.copyOfRange(data, BS + 10, BS + 110));
      assertThat(store.parallelGets()).as("a read within one block").isZero();
      assertThat(drain(join(v.read(BS / 2, 3 * BS))))
          .isEqualTo(Arrays.copyOfRange(data, BS / 2, BS / 2 + 3 * BS));
      assertThat(store.parallelGets()).as("a read of parts of four blocks").isEqualTo(4);
    }
  }

  @Test
  void writeBacksRunAFewAtATimeUntilTheVolumeIsUnderTheLimit() throws Exception {
    GatedStore store = gatedStore(DataSize.ofMebibytes(1));
    join(f.volumes.catalog().create("v", 4 << 20));
    int limitBlocks = (1 << 20) / BS;
    int blocks = 450; // over the limit, under twice it, where writes would wait
    byte[] data = random(blocks * BS, 12);
    try (VolumeHandle v = (VolumeHandle) join(f.volumes.openWritable("v"))) {
      CompletableFuture<Void> gate = store.holdPuts();
      for (int b = 0; b < blocks; b++) {
        join(v.write((long) b * BS, Unpooled.wrappedBuffer(data, b * BS, BS)));
      }
      assertThat(store.puts()).as("write-backs in flight at once")
          .isEqualTo(DirtyBlocks.MAX_IN_FLIGHT);
      gate.complete(null);
      join(v.writeBacksDone());
      assertThat(v.dirtyBytes()).as("each completed write-back started the next while over")
          .isLessThanOrEqualTo((long) limitBlocks * BS);
      assertThat(drain(join(v.read(0, data.length)))).isEqualTo(data);
    }
  }

  @Test
  void eachDirtyBlockIsWrittenBackOnceWhileItsPutRuns() throws Exception {
    GatedStore store = gatedStore(DataSize.ofKibibytes(64));
    join(f.volumes.catalog().create("v", 1 << 20));
    int blocks = 30; // over the 16-block limit, under twice it, where writes would wait
    byte[] data = random(blocks * BS, 9);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      CompletableFuture<Void> gate = store.holdPuts();
      for (int b = 0; b < blocks; b++) {
        join(v.write((long) b * BS, Unpooled.wrappedBuffer(data, b * BS, BS)));
      }
      assertThat(store.puts()).as("write-backs started").isPositive();
      // A block whose write-back is still running changes: its put keeps the old content, and the
      // block is written back again.
      byte[] changed = random(BS, 10);
      join(v.write(0, Unpooled.wrappedBuffer(changed)));
      System.arraycopy(changed, 0, data, 0, BS);
      gate.complete(null);
      assertThat(store.puts()).as("each content at most once, although every write after the"
          + " 16th crossed the limit").isLessThanOrEqualTo(blocks + 1);
      assertThat(drain(join(v.read(0, data.length)))).isEqualTo(data);
      join(v.flush());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(drain(join(v.read(0, data.length)))).isEqualTo(data);
    }
  }
}
