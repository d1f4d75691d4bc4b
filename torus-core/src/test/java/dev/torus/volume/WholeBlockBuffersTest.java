package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A write whose whole aligned block arrives in a buffer from the volume's {@link
 * BlockDevice#bufferAllocator()} keeps that buffer (the NBD server receives payloads into them);
 * any other buffer is copied. Either way the bytes read back, before and after a commit, are the
 * ones written.
 */
final class WholeBlockBuffersTest {
  private static final int BS = 4096;
  private static final int HEAD = 100;
  private static final int TAIL = 50;

  private final VolumeFixture f = VolumeFixture.inMemory(BS, VolumeConfig.DEFAULT);
  private final byte[] data = new byte[HEAD + BS + TAIL];

  WholeBlockBuffersTest() {
    new Random(7).nextBytes(data);
    join(f.volumes.catalog().create("v", 4L * BS));
  }

  @AfterEach
  void close() throws InterruptedException {
    f.close();
  }

  @Test
  void aBlockBufferFromTheVolumeIsKeptAndReadsBack() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      ByteBuf block = v.bufferAllocator().directBuffer(BS, BS);

      join(v.write(BS - HEAD, payload(block)));

      assertThat(block.refCnt()).as("the volume holds the block's buffer").isEqualTo(1);
      assertThat(read(v)).isEqualTo(data);
      join(v.flush());
      assertThat(read(v)).isEqualTo(data);
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      assertThat(read(v)).as("as committed").isEqualTo(data);
    }
  }

  @Test
  void aBufferFromElsewhereIsCopied() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      ByteBuf block = Unpooled.directBuffer(BS, BS);

      join(v.write(BS - HEAD, payload(block)));

      assertThat(block.refCnt()).as("released after its bytes were copied").isZero();
      assertThat(read(v)).isEqualTo(data);
    }
  }

  @Test
  void aKeptBlockTakesLaterPartialWrites() {
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(BS - HEAD, payload(v.bufferAllocator().directBuffer(BS, BS))));
      join(v.flush()); // the store now holds the same buffer
      byte[] patch = {1, 2, 3};

      join(v.write(BS + 10, Unpooled.wrappedBuffer(patch)));

      byte[] expected = data.clone();
      System.arraycopy(patch, 0, expected, HEAD + 10, patch.length);
      assertThat(read(v)).isEqualTo(expected);
      join(v.flush());
    }
    try (BlockVolume v = join(f.volumes.openReadOnly("v"))) {
      byte[] committed = read(v);
      assertThat(committed[HEAD + 10]).isEqualTo((byte) 1);
      assertThat(Arrays.copyOfRange(committed, HEAD + 13, data.length))
          .isEqualTo(Arrays.copyOfRange(data, HEAD + 13, data.length));
    }
  }

  /** {@link #data} as the NBD server assembles it: the partial ends as slices, the block whole. */
  private CompositeByteBuf payload(ByteBuf block) {
    block.writeBytes(data, HEAD, BS);
    return Unpooled.compositeBuffer()
        .addComponent(true, Unpooled.wrappedBuffer(data, 0, HEAD))
        .addComponent(true, block)
        .addComponent(true, Unpooled.wrappedBuffer(data, HEAD + BS, TAIL));
  }

  private static byte[] read(BlockVolume v) {
    ByteBuf buf = join(v.read(BS - HEAD, HEAD + BS + TAIL));
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }
}
