package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import dev.torus.storage.ForwardingBlockStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Every block a volume stores goes with the checksum of exactly the bytes stored, although a
 * write that replaces a whole block checksums it at once, or brings the checksums with it, a
 * block completed from its old content gets a checksum derived from the old content's, and later
 * changes must not reuse them: random whole, partial and zero writes, with and without
 * checksums, over a small dirty limit (so blocks are written back between commits, some several
 * times) and commits, each put checked against its bytes.
 */
final class BlockChecksumsTest {
  private static final int BS = 4096;
  private static final int BLOCKS = 16;

  /** Checks the checksum of every put that comes with one. */
  private static final class CheckingStore extends ForwardingBlockStore {
    final AtomicInteger checked = new AtomicInteger();
    final List<String> wrong = new CopyOnWriteArrayList<>();
    /** Answers reads a moment later on another thread, as the file store does. */
    private final boolean lateReads;
    final AtomicInteger answeredLate = new AtomicInteger();

    CheckingStore(boolean lateReads) {
      super(BlockStores.inMemory(BS, 1 << 12));
      this.lateReads = lateReads;
    }

    @Override
    public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
      if (!lateReads) {
        return store.getBlock(ref, expectedCrc);
      }
      return SlowReadsVolumeModelTest.later().thenCompose(v -> {
        answeredLate.incrementAndGet();
        return store.getBlock(ref, expectedCrc);
      });
    }

    @Override
    public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
      checked.incrementAndGet();
      if (Crc32c.of(data) != crc) {
        wrong.add(ref.toString());
      }
      return store.putBlock(ref, data, crc);
    }
  }

  @Test
  void everyPutCarriesTheChecksumOfItsBytes() throws InterruptedException {
    writeRandomlyAndCheckThePuts(new CheckingStore(false));
  }

  /**
   * Partial writes land in blocks whose old content is still being read, and the old content
   * fills the rest of them later, with a checksum derived from the old content's.
   */
  @Test
  void everyPutCarriesTheChecksumOfItsBytesWhenOldContentComesLate() throws InterruptedException {
    CheckingStore store = new CheckingStore(true);
    writeRandomlyAndCheckThePuts(store);
    assertThat(store.answeredLate.get()).as("reads answered late").isGreaterThan(100);
  }

  private static void writeRandomlyAndCheckThePuts(CheckingStore store)
      throws InterruptedException {
    VolumeConfig config = VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS));
    Random random = new Random(11);
    byte[] model = new byte[BLOCKS * BS];
    try (VolumeFixture f = VolumeFixture.build(BS, config,
        s -> KvMetadata.inMemory(Clock.systemUTC(), s), store)) {
      join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
      try (BlockVolume v = join(f.volumes.openWritable("v"))) {
        for (int op = 0; op < 2_000; op++) {
          int block = random.nextInt(BLOCKS);
          switch (random.nextInt(5)) {
            case 0 -> { // the NBD server's way: a buffer the volume keeps, checksummed on receipt
              ByteBuf buf = v.bufferAllocator().directBuffer(BS, BS);
              byte[] bytes = randomBytes(random, BS);
              buf.writeBytes(bytes);
              join(v.write((long) block * BS, buf, new int[] {Crc32c.of(buf)}));
              System.arraycopy(bytes, 0, model, block * BS, BS);
            }
            case 1 -> { // a whole block copied in
              byte[] bytes = randomBytes(random, BS);
              join(v.write((long) block * BS, Unpooled.wrappedBuffer(bytes)));
              System.arraycopy(bytes, 0, model, block * BS, BS);
            }
            case 2 -> { // part of a block, after or instead of a whole one
              int at = random.nextInt(BS);
              byte[] bytes = randomBytes(random, 1 + random.nextInt(BS - at));
              join(v.write((long) block * BS + at, Unpooled.wrappedBuffer(bytes)));
              System.arraycopy(bytes, 0, model, block * BS + at, bytes.length);
            }
            case 3 -> { // across blocks, with the whole ones' checksums
              long offset = (long) block * BS + random.nextInt(BS);
              byte[] bytes = randomBytes(random,
                  (int) Math.min(random.nextInt(3 * BS), (long) BLOCKS * BS - offset));
              ByteBuf buf = Unpooled.wrappedBuffer(bytes);
              join(v.write(offset, buf, ModelBlockDevice.wholeBlockCrcs(offset, buf, BS)));
              System.arraycopy(bytes, 0, model, (int) offset, bytes.length);
            }
            default -> {
              if (random.nextInt(4) == 0) {
                join(v.flush());
              }
            }
          }
        }
        join(v.flush());
        ByteBuf all = join(v.read(0, BLOCKS * BS));
        try {
          assertThat(ByteBufUtil.getBytes(all)).isEqualTo(model);
        } finally {
          all.release();
        }
      }
    }
    assertThat(store.checked.get()).as("puts with a checksum").isGreaterThan(500);
    assertThat(store.wrong).as("puts whose checksum is not that of their bytes").isEmpty();
  }

  @Test
  void aWriteWithTheWrongNumberOfChecksumsFailsAndChangesNothing() throws InterruptedException {
    try (VolumeFixture f = VolumeFixture.build(BS, VolumeConfig.DEFAULT,
        s -> KvMetadata.inMemory(Clock.systemUTC(), s), BlockStores.inMemory(BS, 64))) {
      join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
      try (BlockVolume v = join(f.volumes.openWritable("v"))) {
        ByteBuf data = Unpooled.wrappedBuffer(new byte[3 * BS]);
        data.setByte(BS, 1);

        assertThatThrownBy(() -> join(v.write(BS / 2, data, new int[3])))
            .isInstanceOfSatisfying(TorusException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
            .hasMessageContaining("holds 2 whole blocks");
        assertThat(data.refCnt()).as("the volume released the data").isZero();
        assertThat(join(v.allocation(0, (long) BLOCKS * BS)))
            .extracting(Extent::hole).containsOnly(true);
      }
    }
  }

  private static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }
}
