package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusAssertions;
import dev.torus.VolumeId;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A writer deletes the blocks its commits replaced, and only those that no snapshot or clone can
 * hold. The scheduled pass is pushed out of reach (an hour) and the test runs it itself, so what
 * it asserts does not depend on timing.
 */
@Timeout(60)
final class SupersededBlocksTest {
  private static final int BS = 4096;
  private static final int BLOCKS = 8;
  private static final VolumeConfig CONFIG = VolumeConfig.DEFAULT
      .withCommitInterval(Duration.ZERO).withReclaimDelay(Duration.ofHours(1));

  private final GatedStore store = new GatedStore(BlockStores.inMemory(BS, 1 << 12));
  private final VolumeFixture f = VolumeFixture.build(BS, CONFIG,
      s -> KvMetadata.inMemory(Clock.systemUTC(), s), store);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  SupersededBlocksTest() {
    f.volumes.bindTo(registry);
    join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
  }

  @AfterEach
  void close() throws InterruptedException {
    f.close();
  }

  @Test
  void blocksACommitReplacedAreDeletedAndTheVolumeReadsTheNewData() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      fill(v, 1);
      List<BlockRef> first = dataBlocks();
      fill(v, 2);
      reclaim(v);
      assertStored(first, false);
      assertStored(dataBlocks(), true);
      assertEquals(BLOCKS, reclaimed());
      assertContent(v, 2);
    }
  }

  @Test
  void closingTheVolumeDeletesWhatItsLastCommitReplaced() throws InterruptedException {
    List<BlockRef> first;
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      fill(v, 1);
      first = dataBlocks();
      fill(v, 2);
    } // an hour before the scheduled pass: only closing deletes them
    TorusAssertions.eventually(() -> reclaimed() == BLOCKS, Duration.ofSeconds(10));
    assertStored(first, false);
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertContent(v, 2);
    }
  }

  @Test
  void blocksASnapshotHoldsAreKeptAndOthersStillGo() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      fill(v, 1);
      List<BlockRef> inSnapshot = dataBlocks();
      join(v.snapshot("s"));
      fill(v, 2); // replaces every block the snapshot holds
      List<BlockRef> after = dataBlocks();
      fill(v, 3); // replaces blocks of the same session written after the snapshot
      reclaim(v);
      assertStored(inSnapshot, true);
      assertStored(after, false);
      assertEquals(BLOCKS, reclaimed());
    }
    try (BlockVolume s = join(f.volumes.openSnapshot("v", "s"))) {
      assertContent(s, 1);
    }
  }

  @Test
  void nothingIsDeletedWhileACloneExistsEvenWithItsSnapshotGone() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      fill(v, 1);
      List<BlockRef> shared = dataBlocks();
      join(v.snapshot("s"));
      join(f.volumes.catalog().cloneSnapshot("v", "s", "c"));
      join(f.volumes.catalog().deleteSnapshot("v", "s"));
      fill(v, 2);
      reclaim(v);
      assertStored(shared, true);
      assertEquals(0, reclaimed());
    }
    try (BlockVolume c = join(f.volumes.openReadOnly("c"))) {
      assertContent(c, 1);
    }
  }

  @Test
  void aReadOfTheOldTreeWhoseBlockWasDeletedReadsTheNewTree() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      fill(v, 1);
      CompletableFuture<Void> gets = store.holdGets();
      CompletableFuture<ByteBuf> read = v.read(0, BS); // looks its block up in the tree of fill 1
      fill(v, 2);
      reclaim(v);
      gets.complete(null);
      ByteBuf buf = join(read);
      try {
        byte[] got = new byte[BS];
        buf.getBytes(buf.readerIndex(), got);
        assertArrayEquals(block(2, 0), got, "a read that overlaps a write sees one of them");
      } finally {
        buf.release();
      }
      assertEquals(BLOCKS, reclaimed());
    }
  }

  @Test
  void aSnapshotMayHoldOnlyBlocksItsRootsSessionHadAllocated() {
    VolumeId id = new VolumeId(7);
    BlockRef ref = new BlockRef(id, 5, 100, BlockType.DATA);
    assertTrue(SupersededBlocks.mayHold(root(6, 0), ref), "a later session carried it over");
    assertTrue(SupersededBlocks.mayHold(root(5, 100), ref), "its own commit");
    assertTrue(SupersededBlocks.mayHold(root(5, 180), ref), "a later commit of its session");
    assertFalse(SupersededBlocks.mayHold(root(5, 99), ref), "an earlier commit of its session");
    assertFalse(SupersededBlocks.mayHold(root(4, 1000), ref), "an earlier session");
  }

  private static VolumeRoot root(long session, long highWater) {
    return new VolumeRoot(1 << 20, 1, null, 0, session, highWater);
  }

  /** Writes every block with content derived from {@code generation} and commits. */
  private static void fill(BlockVolume v, int generation) {
    for (int i = 0; i < BLOCKS; i++) {
      join(v.write((long) i * BS, Unpooled.wrappedBuffer(block(generation, i))));
    }
    join(v.flush());
  }

  private static byte[] block(int generation, int index) {
    byte[] b = new byte[BS];
    Arrays.fill(b, (byte) (generation * 16 + index + 1));
    return b;
  }

  private static void assertContent(BlockVolume v, int generation) {
    for (int i = 0; i < BLOCKS; i++) {
      ByteBuf buf = join(v.read((long) i * BS, BS));
      try {
        byte[] got = new byte[BS];
        buf.getBytes(buf.readerIndex(), got);
        assertArrayEquals(block(generation, i), got, "block " + i);
      } finally {
        buf.release();
      }
    }
  }

  private static void reclaim(BlockVolume v) {
    join(((VolumeHandle) v).superseded.reclaim());
  }

  /** The data blocks of the volume's committed tree. */
  private List<BlockRef> dataBlocks() {
    VolumeRoot root = join(f.metadata.volumes().root(join(f.volumes.catalog().get("v")).id()))
        .value();
    List<BlockRef> refs = new ArrayList<>();
    join(f.volumes.walk(root, page -> true, refs::add));
    assertEquals(BLOCKS, refs.size());
    return refs;
  }

  private void assertStored(List<BlockRef> refs, boolean stored) {
    BlockStore s = f.store;
    for (BlockRef ref : refs) {
      assertEquals(stored, join(s.hasBlock(ref)), ref + (stored ? " is kept" : " is deleted"));
    }
  }

  private long reclaimed() {
    return (long) registry.get("torus_volume_reclaimed_blocks").functionCounter().count();
  }
}
