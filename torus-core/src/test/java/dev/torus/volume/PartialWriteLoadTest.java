package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.DataSize;
import dev.torus.TorusExceptions;
import dev.torus.storage.BlockStores;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.DefaultEventExecutor;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A partial write to a block that is not in memory needs the block's old content. The write is
 * acknowledged before that read completes, and the old content fills in around it. When the old
 * content cannot be read, the acknowledged write is lost: reads of the block fail and the next
 * flush fails, once, saying so; the block keeps its old content, also when a commit froze it
 * while the read was under way (that commit once stored the block as a hole, erasing data
 * acknowledged long before).
 */
@Timeout(60)
final class PartialWriteLoadTest {
  private static final int BS = 4096;

  private final GatedStore store = new GatedStore(BlockStores.inMemory(BS, 1 << 12));
  private final VolumeFixture f = VolumeFixture.inMemoryMetadata(BS,
      VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO), store);
  private final byte[] old = new byte[BS];
  private CompletableFuture<Void> heldGets = CompletableFuture.completedFuture(null);

  PartialWriteLoadTest() {
    Arrays.fill(old, (byte) 0x5a);
    join(f.volumes.catalog().create("v", 4L * BS));
  }

  @AfterEach
  void close() throws InterruptedException {
    f.close();
  }

  @Test
  void writesAreAcknowledgedBeforeTheOldContentArrivesAndLandInIt() {
    byte[] expected = old.clone();
    expected[100] = 1;
    expected[101] = 2;
    expected[102] = 9; // the later write wins where they overlap
    expected[103] = 9;
    Arrays.fill(expected, 3000, 3010, (byte) 0);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      CompletableFuture<Void> first = partialWriteWithHeldRead(v);
      CompletableFuture<Void> second = v.write(102, Unpooled.wrappedBuffer(new byte[] {9, 9}));
      CompletableFuture<Void> zeroes = v.writeZeroes(3000, 10);
      assertThat(first).as("the write, while the old content is being read").isCompleted();
      assertThat(second).isCompleted();
      assertThat(zeroes).isCompleted();
      CompletableFuture<ByteBuf> read = v.read(0, BS);
      CompletableFuture<Void> flush = v.flush();
      assertThat(read).as("a read of the block waits for its old content").isNotDone();
      assertThat(flush).as("so does a commit").isNotDone();

      heldGets.complete(null);
      assertThat(bytes(join(read))).isEqualTo(expected);
      join(flush);
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(v)).as("as committed").isEqualTo(expected);
    }
  }

  @Test
  void onAnEventLoopTheOldContentIsReadAfterTheTaskThatWrote() throws Exception {
    byte[] expected = old.clone();
    expected[100] = 1;
    DefaultEventExecutor loop = new DefaultEventExecutor();
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(old)));
      join(v.flush());
      int before = store.gets();
      int[] seen = loop.submit(() -> {
        CompletableFuture<Void> write = v.write(100, Unpooled.wrappedBuffer(new byte[] {1}));
        return new int[] {write.isDone() ? 1 : 0, store.gets() - before};
      }).get();
      assertThat(seen[0]).as("the write completed within the task").isEqualTo(1);
      assertThat(seen[1]).as("gets of the old content during the task").isZero();
      assertThat(content(v)).isEqualTo(expected);
      assertThat(store.gets() - before).as("gets once the loop moved on").isEqualTo(1);
    } finally {
      loop.shutdownGracefully().sync();
    }
  }

  @Test
  void aWholeBlockWriteDuringTheReadOverwritesEverything() {
    byte[] whole = new byte[BS];
    Arrays.fill(whole, (byte) 0x33);
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      partialWriteWithHeldRead(v);
      join(v.write(0, Unpooled.wrappedBuffer(whole)));
      heldGets.complete(null);
      assertThat(content(v)).isEqualTo(whole);
      join(v.flush());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(v)).isEqualTo(whole);
    }
  }

  @Test
  void writesWaitForTheOldContentOnceHalfTheDirtyLimitIsWaitingForIt() throws Exception {
    GatedStore slow = new GatedStore(BlockStores.inMemory(BS, 1 << 12));
    // Half of a two-block dirty limit: one block may wait for its old content with writes in it.
    try (VolumeFixture small = VolumeFixture.inMemoryMetadata(BS, VolumeConfig.DEFAULT
        .withCommitInterval(Duration.ZERO).withDirtyLimit(DataSize.ofBytes(2 * BS)), slow)) {
      join(small.volumes.catalog().create("w", 4L * BS));
      try (BlockVolume v = join(small.volumes.openWritable("w"))) {
        join(v.write(0, Unpooled.wrappedBuffer(old)));
        join(v.write(BS, Unpooled.wrappedBuffer(old)));
        join(v.flush());
        CompletableFuture<Void> gets = slow.holdGets();
        CompletableFuture<Void> first = v.write(10, Unpooled.wrappedBuffer(new byte[] {1}));
        CompletableFuture<Void> second = v.write(BS + 10, Unpooled.wrappedBuffer(new byte[] {2}));
        CompletableFuture<Void> again = v.write(11, Unpooled.wrappedBuffer(new byte[] {3}));
        assertThat(first).as("the first block's write").isCompleted();
        assertThat(again).as("another write to that block").isCompleted();
        assertThat(second).as("a write to a second block").isNotDone();

        gets.complete(null);
        join(second);
        byte[] both = bytes(join(v.read(0, 2 * BS)));
        assertThat(both[10]).isEqualTo((byte) 1);
        assertThat(both[11]).isEqualTo((byte) 3);
        assertThat(both[BS + 10]).isEqualTo((byte) 2);
        assertThat(both[12]).as("old content around the writes").isEqualTo(old[12]);
        assertThat(both[BS + 11]).isEqualTo(old[11]);
        join(v.flush());
      }
    }
  }

  @Test
  void anUnreadableOldBlockLosesTheWriteAndTheNextFlushSaysSo() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(partialWriteWithHeldRead(v));
      failTheRead();

      assertThatThrownBy(() -> content(v)).as("a read of the block")
          .hasMessageContaining("writes to block 0 were acknowledged")
          .hasMessageContaining("unreadable");
      assertThatThrownBy(() -> join(v.flush())).as("the next flush")
          .hasMessageContaining("writes to block 0 were acknowledged")
          .hasMessageContaining("lost");
      assertThat(content(v)).as("once reported, the block reads as before the write")
          .isEqualTo(old);
      join(v.flush()); // reported once
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(v)).isEqualTo(old);
    }
  }

  @Test
  void closingReportsALossNoFlushReported() {
    BlockVolume v = join(f.volumes.openWritable("v"));
    join(partialWriteWithHeldRead(v));
    failTheRead();
    assertThatThrownBy(v::close).hasMessageContaining("writes to block 0 were acknowledged");
    try (BlockVolume r = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(r)).isEqualTo(old);
    }
  }

  @Test
  void aCommitThatFrozeTheBlockDuringTheFailedReadKeepsItsContent() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(partialWriteWithHeldRead(v));
      CompletableFuture<Void> flush = v.flush(); // freezes the block while its read waits
      failTheRead();
      assertThatThrownBy(() -> join(flush)).hasMessageContaining("lost");

      assertThat(content(v)).as("after the commit").isEqualTo(old);
      assertThat(join(v.allocation(0, BS))).as("block status").singleElement()
          .satisfies(e -> assertThat(e.hole()).isFalse());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(v)).as("as committed").isEqualTo(old);
    }
  }

  @Test
  void aFailedCommitDoesNotBringTheUnreadBlockBack() {
    byte[] expected = old.clone();
    expected[200] = 7;
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(partialWriteWithHeldRead(v));
      CompletableFuture<Void> puts = store.holdPuts();
      join(v.write(BS, Unpooled.wrappedBuffer(old))); // gives the commit something to put
      CompletableFuture<Void> flush = v.flush();
      failTheRead();
      puts.completeExceptionally(TorusExceptions.unavailable("test: puts fail", null));
      assertThatThrownBy(() -> join(flush)).as("the loss, with the commit's own failure")
          .hasMessageContaining("lost")
          .satisfies(e -> assertThat(TorusExceptions.unwrap(e).getSuppressed()).singleElement()
              .satisfies(s -> assertThat(s).hasMessageContaining("puts fail")));
      store.holdPuts().complete(null);

      assertThat(content(v)).as("after the failed commit").isEqualTo(old);
      join(v.write(200, Unpooled.wrappedBuffer(new byte[] {7})));
      assertThat(content(v)).as("a partial write after it builds on the old content")
          .isEqualTo(expected);
      join(v.flush());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(content(v)).isEqualTo(expected);
    }
  }

  /**
   * Commits {@link #old} as block 0, then starts a partial write to it whose read of the old
   * content waits until {@link #heldGets} completes.
   */
  private CompletableFuture<Void> partialWriteWithHeldRead(BlockVolume v) {
    join(v.write(0, Unpooled.wrappedBuffer(old)));
    join(v.flush());
    heldGets = store.holdGets();
    return v.write(100, Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
  }

  /** Fails the held read; later reads work again. */
  private void failTheRead() {
    heldGets.completeExceptionally(TorusExceptions.corrupted("test: the old block is unreadable"));
    store.holdGets().complete(null);
  }

  private static byte[] content(BlockVolume v) {
    return bytes(join(v.read(0, BS)));
  }

  private static byte[] bytes(ByteBuf buf) {
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }
}
