package dev.torus.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.ErrorCode;
import dev.torus.INodeRef;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link BlockStore} shares. An implementation's test implements this interface
 * and supplies {@link #newStore}; each test closes the stores it makes.
 */
public interface BlockStoreContract {
  /** Block size used by the contract; every store must accept it. */
  int BLOCK_SIZE = 4096;

  /** A new, empty store with room for {@code capacityBlocks} blocks of {@code blockSize} bytes. */
  BlockStore newStore(int blockSize, long capacityBlocks);

  @Test
  default void putThenGetRoundTripsByteExact() {
    ByteBuf d;
    CompositeByteBuf c;
    try (BlockStore store = newStore(BLOCK_SIZE, 16)) {
      byte[] heap = Blocks.random(BLOCK_SIZE, 1);
      byte[] direct = Blocks.random(BLOCK_SIZE, 2);
      byte[] composite = Blocks.random(BLOCK_SIZE, 3);
      Futures.join(store.putBlock(ref(1), Unpooled.wrappedBuffer(heap)));
      d = Unpooled.directBuffer(BLOCK_SIZE).writeBytes(direct);
      Futures.join(store.putBlock(ref(2), d));
      c = Unpooled.compositeBuffer();
      c.addComponents(true, Unpooled.wrappedBuffer(composite, 0, 1000),
          Unpooled.wrappedBuffer(composite, 1000, BLOCK_SIZE - 1000));
      Futures.join(store.putBlock(ref(3), c));

      assertThat(Blocks.read(store, ref(1))).isEqualTo(heap);
      assertThat(Blocks.read(store, ref(2))).isEqualTo(direct);
      assertThat(Blocks.read(store, ref(3))).isEqualTo(composite);
    }
    // A store may keep a buffer it was given instead of copying it, but not beyond its close.
    assertThat(d.refCnt()).as("the store releases what it was given").isZero();
    assertThat(c.refCnt()).isZero();
  }

  @Test
  default void keepsBlockBuffersSaysWhetherAPutHoldsOnToAWholeBlockOfItsAllocator() {
    byte[] bytes = Blocks.random(BLOCK_SIZE, 5);
    ByteBuf block;
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      block = store.allocator().directBuffer(BLOCK_SIZE, BLOCK_SIZE).writeBytes(bytes);
      // The put owns a view; the test keeps its own reference to watch what the store does.
      Futures.join(store.putBlock(ref(1), block.retainedDuplicate(), Crc32c.of(block)));
      if (store.keepsBlockBuffers()) {
        assertThat(block.refCnt()).as("the store holds the buffer given").isEqualTo(2);
        block.setByte(0, bytes[0] + 1); // proves the memory is shared; a real caller never does
        byte[] changed = bytes.clone();
        changed[0]++;
        assertThat(Blocks.read(store, ref(1))).as("the stored block is that buffer")
            .isEqualTo(changed);
      } else {
        assertThat(block.refCnt()).as("the store released the buffer given").isEqualTo(1);
        assertThat(Blocks.read(store, ref(1))).isEqualTo(bytes);
      }
      block.release();
    }
    assertThat(block.refCnt()).as("nothing held after close").isZero();
  }

  @Test
  default void putReadsOnlyTheReadableBytes() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      byte[] block = Blocks.random(BLOCK_SIZE, 4);
      ByteBuf framed = Unpooled.buffer(BLOCK_SIZE + 20).writeZero(8).writeBytes(block).writeZero(12);
      framed.readerIndex(8).writerIndex(8 + BLOCK_SIZE);
      Futures.join(store.putBlock(ref(1), framed));
      assertThat(Blocks.read(store, ref(1))).isEqualTo(block);
    }
  }

  @Test
  default void overwriteReplacesTheBlock() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 2)));
      assertThat(Blocks.read(store, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 2));
      assertThat(store.stats().usedBlocks()).isEqualTo(1);
    }
  }

  @Test
  default void aGetInParallelChecksAsAGetWithAnExpectedChecksumDoes() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      byte[] block = Blocks.random(BLOCK_SIZE, 3);
      int crc = Crc32c.of(block, 0, BLOCK_SIZE);
      Futures.join(store.putBlock(ref(1), Unpooled.wrappedBuffer(block)));
      assertThat(Blocks.drain(Futures.join(store.getBlockInParallel(ref(1), crc))))
          .isEqualTo(block);
      assertCode(store.getBlockInParallel(ref(1), crc + 1), ErrorCode.CORRUPTED);
      assertCode(store.getBlockInParallel(ref(2), crc), ErrorCode.NOT_FOUND);
    }
  }

  @Test
  default void getWithAnExpectedChecksumReturnsOnlyTheBlockThatHasIt() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      byte[] first = Blocks.random(BLOCK_SIZE, 1);
      byte[] second = Blocks.random(BLOCK_SIZE, 2);
      int firstCrc = Crc32c.of(first, 0, BLOCK_SIZE);
      int secondCrc = Crc32c.of(second, 0, BLOCK_SIZE);
      Futures.join(store.putBlock(ref(1), Unpooled.wrappedBuffer(first)));
      for (int i = 0; i < 2; i++) { // the second read may be answered from what the first checked
        assertThat(Blocks.drain(Futures.join(store.getBlock(ref(1), firstCrc)))).isEqualTo(first);
      }
      assertCode(store.getBlock(ref(1), firstCrc + 1), ErrorCode.CORRUPTED);
      Futures.join(store.putBlock(ref(1), Unpooled.wrappedBuffer(second)));
      assertCode(store.getBlock(ref(1), firstCrc), ErrorCode.CORRUPTED);
      assertThat(Blocks.drain(Futures.join(store.getBlock(ref(1), secondCrc)))).isEqualTo(second);
      assertCode(store.getBlock(ref(2), secondCrc), ErrorCode.NOT_FOUND);
    }
  }

  @Test
  default void aPutWithItsChecksumReadsBackAndAWrongChecksumIsNeverServed() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      byte[] block = Blocks.random(BLOCK_SIZE, 3);
      int crc = Crc32c.of(block, 0, BLOCK_SIZE);
      Futures.join(store.putBlock(ref(1), Unpooled.wrappedBuffer(block), crc));
      assertThat(Blocks.drain(Futures.join(store.getBlock(ref(1), crc)))).isEqualTo(block);
      assertThat(Blocks.read(store, ref(1))).isEqualTo(block);
      // A caller's wrong checksum is not taken on trust: the bytes are never served as having it.
      Futures.join(store.putBlock(ref(2), Unpooled.wrappedBuffer(block), crc + 1));
      assertThatThrownBy(() -> Blocks.drain(Futures.join(store.getBlock(ref(2), crc + 1))))
          .isInstanceOf(TorusException.class);
    }
  }

  @Test
  default void getOfAMissingBlockFailsNotFound() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      assertCode(store.getBlock(ref(7)), ErrorCode.NOT_FOUND);
    }
  }

  @Test
  default void deleteRemovesTheBlockAndDeletingAgainSucceeds() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      Futures.join(store.putBlock(ref(2), Blocks.buf(BLOCK_SIZE, 2)));
      Futures.join(store.deleteBlock(ref(1)));
      assertCode(store.getBlock(ref(1)), ErrorCode.NOT_FOUND);
      Futures.join(store.deleteBlock(ref(1)));
      Futures.join(store.deleteBlock(ref(9)));
      assertThat(Blocks.read(store, ref(2))).isEqualTo(Blocks.random(BLOCK_SIZE, 2));
      assertThat(store.stats().usedBlocks()).isEqualTo(1);
    }
  }

  @Test
  default void hasBlockFollowsPutsAndDeletes() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      assertThat(Futures.join(store.hasBlock(ref(1)))).isFalse();
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      assertThat(Futures.join(store.hasBlock(ref(1)))).isTrue();
      assertThat(Futures.join(store.hasBlock(ref(2)))).isFalse();
      Futures.join(store.deleteBlock(ref(1)));
      assertThat(Futures.join(store.hasBlock(ref(1)))).isFalse();
    }
  }

  @Test
  default void listBlocksReturnsExactlyTheStoredRefs() {
    try (BlockStore store = newStore(BLOCK_SIZE, 64)) {
      assertThat(Futures.join(store.listBlocks())).isEmpty();
      for (int i = 0; i < 40; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      for (int i = 0; i < 40; i += 3) {
        Futures.join(store.deleteBlock(ref(i)));
      }
      List<BlockRef> expected = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        if (i % 3 != 0) {
          expected.add(ref(i));
        }
      }
      assertThat(Futures.join(store.listBlocks())).containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  @Test
  default void putOfTheWrongSizeFailsInvalidArgumentAndReleasesTheBuffer() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      for (int size : new int[] {0, 1, BLOCK_SIZE - 1, BLOCK_SIZE + 1}) {
        ByteBuf wrong = Unpooled.buffer(size).writeZero(size);
        assertCode(store.putBlock(ref(1), wrong), ErrorCode.INVALID_ARGUMENT);
        assertThat(wrong.refCnt()).as("size %d", size).isZero();
      }
      assertThat(Futures.join(store.hasBlock(ref(1)))).isFalse();
    }
  }

  @Test
  default void fullStoreFailsOutOfSpaceAndRecoversAfterADelete() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      for (int i = 0; i < 4; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      ByteBuf rejected = Blocks.buf(BLOCK_SIZE, 4);
      assertCode(store.putBlock(ref(4), rejected), ErrorCode.OUT_OF_SPACE);
      assertThat(rejected.refCnt()).isZero();

      Futures.join(store.deleteBlock(ref(0)));
      Futures.join(store.putBlock(ref(4), Blocks.buf(BLOCK_SIZE, 4)));
      for (int i = 1; i <= 4; i++) {
        assertThat(Blocks.read(store, ref(i))).isEqualTo(Blocks.random(BLOCK_SIZE, i));
      }
      assertCode(store.getBlock(ref(0)), ErrorCode.NOT_FOUND);
    }
  }

  @Test
  default void keepsAFractionOfItsCapacityForMapPages() {
    try (BlockStore store = newStore(BLOCK_SIZE, 128)) {
      for (int i = 0; i < 126; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      assertCode(store.putBlock(ref(126), Blocks.buf(BLOCK_SIZE, 126)), ErrorCode.OUT_OF_SPACE);
      BlockRef page1 = BlockRef.of(new INodeRef(new VolumeId(3), 5), 200, BlockType.MAP);
      BlockRef page2 = BlockRef.of(new INodeRef(new VolumeId(3), 5), 201, BlockType.MAP);
      BlockRef page3 = BlockRef.of(new INodeRef(new VolumeId(3), 5), 202, BlockType.MAP);
      Futures.join(store.putBlock(page1, Blocks.buf(BLOCK_SIZE, 200)));
      Futures.join(store.putBlock(page2, Blocks.buf(BLOCK_SIZE, 201)));
      assertCode(store.putBlock(page3, Blocks.buf(BLOCK_SIZE, 202)), ErrorCode.OUT_OF_SPACE);
      assertThat(store.stats().usedBlocks()).isEqualTo(128);
      assertThat(Blocks.read(store, page2)).isEqualTo(Blocks.random(BLOCK_SIZE, 201));
    }
  }

  @Test
  default void statsReportCapacityAndUsage() {
    try (BlockStore store = newStore(BLOCK_SIZE, 8)) {
      assertThat(store.stats()).isEqualTo(new StoreStats(BLOCK_SIZE, 8, 0));
      assertThat(store.blockSize()).isEqualTo(BLOCK_SIZE);
      for (int i = 0; i < 3; i++) {
        Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, i)));
      }
      Futures.join(store.putBlock(ref(0), Blocks.buf(BLOCK_SIZE, 9)));
      Futures.join(store.deleteBlock(ref(1)));
      StoreStats stats = store.stats();
      assertThat(stats).isEqualTo(new StoreStats(BLOCK_SIZE, 8, 2));
      assertThat(stats.capacityBytes()).isEqualTo(8L * BLOCK_SIZE);
      assertThat(stats.usedBytes()).isEqualTo(2L * BLOCK_SIZE);
    }
  }

  @Test
  default void flushCompletes() {
    try (BlockStore store = newStore(BLOCK_SIZE, 4)) {
      Futures.join(store.flush());
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      Futures.join(store.flush());
      Futures.join(store.flush());
      assertThat(Blocks.read(store, ref(1))).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
    }
  }

  @Test
  default void closedStoreFailsClosedAndCloseIsIdempotent() {
    BlockStore store = newStore(BLOCK_SIZE, 4);
    Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
    store.close();
    store.close();
    ByteBuf late = Blocks.buf(BLOCK_SIZE, 2);
    assertCode(store.putBlock(ref(2), late), ErrorCode.CLOSED);
    assertThat(late.refCnt()).as("released even when closed").isZero();
    assertCode(store.getBlock(ref(1)), ErrorCode.CLOSED);
    assertCode(store.hasBlock(ref(1)), ErrorCode.CLOSED);
    assertCode(store.deleteBlock(ref(1)), ErrorCode.CLOSED);
    assertCode(store.flush(), ErrorCode.CLOSED);
    assertCode(store.listBlocks(), ErrorCode.CLOSED);
  }

  @Test
  default void returnedBuffersDoNotChangeWithLaterPutsOrDeletes() {
    try (BlockStore store = newStore(BLOCK_SIZE, 8)) {
      Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 1)));
      ByteBuf first = Futures.join(store.getBlock(ref(1)));
      ByteBuf second = Futures.join(store.getBlock(ref(1)));
      boolean firstReleased = false;
      try {
        Futures.join(store.putBlock(ref(1), Blocks.buf(BLOCK_SIZE, 2)));
        Futures.join(store.deleteBlock(ref(1)));
        for (int i = 2; i < 8; i++) {
          Futures.join(store.putBlock(ref(i), Blocks.buf(BLOCK_SIZE, 100 + i)));
        }
        Futures.join(store.flush());
        assertThat(ByteBufUtil.getBytes(first)).isEqualTo(Blocks.random(BLOCK_SIZE, 1));
        assertThat(first.readableBytes()).isEqualTo(BLOCK_SIZE);
        first.release();
        firstReleased = true;
        assertThat(ByteBufUtil.getBytes(second)).as("releasing one copy leaves the other")
            .isEqualTo(Blocks.random(BLOCK_SIZE, 1));
      } finally {
        if (!firstReleased) {
          first.release();
        }
        second.release();
      }
    }
  }

  @Test
  default void concurrentPutsAndGetsFromSeveralThreadsStayConsistent() throws Exception {
    int threads = 4;
    int refsPerThread = 24;
    int shared = 8;
    try (BlockStore store = newStore(BLOCK_SIZE, threads * refsPerThread + shared * threads * 2L)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      ConcurrentHashMap<String, Boolean> problems = new ConcurrentHashMap<>();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          done.add(pool.submit(() -> hammer(store, thread, refsPerThread, shared, problems)));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      assertThat(problems.keySet()).isEmpty();
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < refsPerThread; i++) {
          assertThat(Blocks.read(store, ref(1000 * (t + 1) + i)))
              .isEqualTo(Blocks.random(BLOCK_SIZE, 1000 * (t + 1) + i + 7));
        }
      }
      for (int s = 0; s < shared; s++) {
        assertThat(Blocks.seedOf(Blocks.read(store, ref(s)))).isBetween(0, threads - 1);
      }
      assertThat(store.stats().usedBlocks()).isEqualTo((long) threads * refsPerThread + shared);
    }
  }

  /**
   * One thread's share of the concurrency test: its own refs written twice and read back, and
   * shared refs that all threads overwrite; a shared block must always read as one whole version.
   */
  private static void hammer(BlockStore store, int thread, int own, int shared,
      ConcurrentHashMap<String, Boolean> problems) {
    SplittableRandom random = new SplittableRandom(thread);
    List<CompletableFuture<Void>> puts = new ArrayList<>();
    for (int i = 0; i < own; i++) {
      int id = 1000 * (thread + 1) + i;
      puts.add(store.putBlock(ref(id), Blocks.buf(BLOCK_SIZE, id)));
    }
    Futures.join(Futures.allOf(puts));
    for (int round = 0; round < 6; round++) {
      int s = random.nextInt(shared);
      Futures.join(store.putBlock(ref(s), Blocks.tagged(BLOCK_SIZE, thread)));
      for (int k = 0; k < shared; k++) {
        store.getBlock(ref(k)).handle((buf, error) -> {
          if (buf != null) {
            byte[] bytes = ByteBufUtil.getBytes(buf);
            buf.release();
            if (!Blocks.isTagged(bytes)) {
              problems.put("shared block read as a mix of versions", true);
            }
          } else if (TorusExceptions.unwrap(error).code() != ErrorCode.NOT_FOUND) {
            problems.put("read failed: " + error, true);
          }
          return null;
        }).join();
      }
      if (round % 3 == 2) {
        Futures.join(store.flush());
      }
    }
    for (int i = 0; i < own; i++) {
      int id = 1000 * (thread + 1) + i;
      if (!Arrays.equals(Blocks.read(store, ref(id)), Blocks.random(BLOCK_SIZE, id))) {
        problems.put("own block " + id + " changed", true);
      }
      Futures.join(store.putBlock(ref(id), Blocks.buf(BLOCK_SIZE, id + 7)));
    }
  }

  /** A distinct ref per number. */
  static BlockRef ref(int n) {
    return BlockRef.of(new INodeRef(new VolumeId(3), 5), n, BlockType.DATA);
  }

  /** Asserts that a future fails with a {@link TorusException} of {@code code}. */
  static void assertCode(CompletableFuture<?> future, ErrorCode code) {
    assertThatThrownBy(() -> Futures.join(future))
        .isInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(code));
  }
}
