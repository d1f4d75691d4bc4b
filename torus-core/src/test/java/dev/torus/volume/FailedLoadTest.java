package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.TorusExceptions;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A partial write needs the block's old content; when that cannot be read, the write fails and
 * the block keeps its content, also when a commit froze the block while the read was under way
 * (that commit once stored the block as a hole, erasing data acknowledged long before).
 */
@Timeout(60)
final class FailedLoadTest {
  private static final int BS = 4096;

  private final GatedStore store = new GatedStore(BlockStores.inMemory(BS, 1 << 12));
  private final VolumeFixture f = VolumeFixture.build(BS,
      VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO),
      s -> KvMetadata.inMemory(Clock.systemUTC(), s), store);
  private final byte[] old = new byte[BS];
  private CompletableFuture<Void> heldGets = CompletableFuture.completedFuture(null);

  FailedLoadTest() {
    Arrays.fill(old, (byte) 0x5a);
    join(f.volumes.catalog().create("v", 4L * BS));
  }

  @AfterEach
  void close() throws InterruptedException {
    f.close();
  }

  @Test
  void aCommitThatFrozeTheBlockDuringTheFailedReadKeepsItsContent() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      CompletableFuture<Void> write = partialWriteWithHeldRead(v);
      CompletableFuture<Void> flush = v.flush(); // freezes the block while its read waits
      failTheRead(write);
      join(flush);

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
      CompletableFuture<Void> write = partialWriteWithHeldRead(v);
      CompletableFuture<Void> puts = store.holdPuts();
      join(v.write(BS, Unpooled.wrappedBuffer(old))); // gives the commit something to put
      CompletableFuture<Void> flush = v.flush();
      failTheRead(write);
      puts.completeExceptionally(TorusExceptions.unavailable("test: puts fail", null));
      assertThatThrownBy(() -> join(flush)).hasMessageContaining("puts fail");
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
   * content waits until {@link #failTheRead}.
   */
  private CompletableFuture<Void> partialWriteWithHeldRead(BlockVolume v) {
    join(v.write(0, Unpooled.wrappedBuffer(old)));
    join(v.flush());
    heldGets = store.holdGets();
    return v.write(100, Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
  }

  /** Fails the held read, and with it the partial write; later reads work again. */
  private void failTheRead(CompletableFuture<Void> write) {
    heldGets.completeExceptionally(TorusExceptions.corrupted("test: the old block is unreadable"));
    assertThatThrownBy(() -> join(write)).hasMessageContaining("unreadable");
    store.holdGets().complete(null);
  }

  private static byte[] content(BlockVolume v) {
    ByteBuf buf = join(v.read(0, BS));
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }
}
