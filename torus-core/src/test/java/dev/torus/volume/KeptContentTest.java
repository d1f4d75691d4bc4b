package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.ForwardingBlockStore;
import dev.torus.transport.LeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A block written back to a store that keeps the buffers it is given holds on to that buffer
 * until the next commit, and partial writes and reads take the block's old content from it
 * instead of reading the store. A store that copies what it is given is read as before. No
 * buffer is left behind: the kept ones are let go by commits and by closing the volume.
 */
@ExtendWith(LeakCheck.class)
@Timeout(60)
final class KeptContentTest {
  private static final int BS = 4096;

  @Test
  void aWrittenBackBlockIsNotReadBackFromAStoreThatKeptItsBuffer() throws Exception {
    GatedStore store = new GatedStore(BlockStores.inMemory(BS, 1 << 12));
    assertThat(runWorkload(store)).as("gets: reads and partial writes of written-back blocks,"
        + " then of committed ones").containsExactly(0, 0, 1, 1);
  }

  @Test
  void aStoreThatCopiesIsReadBackAsBefore() throws Exception {
    GatedStore store = new GatedStore(new Copying(BlockStores.inMemory(BS, 1 << 12)));
    assertThat(runWorkload(store)).containsExactly(1, 1, 1, 1);
  }

  /**
   * Writes blocks 0 to 2 whole in one write, which writes 0 and 1 back (a dirty limit of two
   * blocks), then reads block 1, writes into block 0, commits, and does both again. Checks the
   * content all along and after reopening; returns the store's gets for each of the four steps.
   */
  private static int[] runWorkload(GatedStore store) throws InterruptedException {
    byte[] a = filled(0x11);
    byte[] b = filled(0x22);
    byte[] c = filled(0x33);
    byte[] expected0 = a.clone();
    expected0[10] = 1;
    expected0[20] = 2;
    int[] gets = new int[4];
    try (VolumeFixture f = VolumeFixture.inMemoryMetadata(BS, VolumeConfig.DEFAULT
        .withCommitInterval(Duration.ZERO).withDirtyLimit(DataSize.ofBytes(2 * BS)), store)) {
      join(f.volumes.catalog().create("v", 4L * BS));
      try (BlockVolume v = join(f.volumes.openWritable("v"))) {
        join(v.write(0, Unpooled.wrappedBuffer(a, b, c)));
        assertThat(store.puts()).as("blocks 0 and 1 written back").isEqualTo(2);

        int before = store.gets();
        assertThat(read(v, BS)).isEqualTo(b);
        gets[0] = store.gets() - before;

        before = store.gets();
        join(v.write(10, Unpooled.wrappedBuffer(new byte[] {1})));
        assertThat(read(v, 0)).isEqualTo(withByte(a, 10, 1));
        gets[1] = store.gets() - before;

        join(v.flush());
        before = store.gets();
        assertThat(read(v, BS)).as("after the commit").isEqualTo(b);
        gets[2] = store.gets() - before;

        before = store.gets();
        join(v.write(20, Unpooled.wrappedBuffer(new byte[] {2})));
        assertThat(read(v, 0)).isEqualTo(expected0);
        gets[3] = store.gets() - before;
        join(v.flush());
      }
      try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
        assertThat(read(v, 0)).as("as committed").isEqualTo(expected0);
        assertThat(read(v, BS)).isEqualTo(b);
        assertThat(read(v, 2 * BS)).isEqualTo(c);
      }
    }
    return gets;
  }

  /** An in-memory store that says it copies, as the file store does. */
  private static final class Copying extends ForwardingBlockStore {
    Copying(BlockStore store) {
      super(store);
    }

    @Override
    public boolean keepsBlockBuffers() {
      return false;
    }
  }

  private static byte[] filled(int value) {
    byte[] block = new byte[BS];
    Arrays.fill(block, (byte) value);
    return block;
  }

  private static byte[] withByte(byte[] block, int at, int value) {
    byte[] changed = block.clone();
    changed[at] = (byte) value;
    return changed;
  }

  private static byte[] read(BlockVolume v, long offset) {
    ByteBuf buf = join(v.read(offset, BS));
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }
}
