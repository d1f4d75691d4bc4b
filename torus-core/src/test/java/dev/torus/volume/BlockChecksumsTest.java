package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.BlockRef;
import dev.torus.DataSize;
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
 * write that replaces a whole block checksums it at once and later changes must not reuse that:
 * random whole, partial and zero writes over a small dirty limit (so blocks are written back
 * between commits, some several times) and commits, each put checked against its bytes.
 */
final class BlockChecksumsTest {
  private static final int BS = 4096;
  private static final int BLOCKS = 16;

  /** Checks the checksum of every put that comes with one. */
  private static final class CheckingStore extends ForwardingBlockStore {
    final AtomicInteger checked = new AtomicInteger();
    final List<String> wrong = new CopyOnWriteArrayList<>();

    CheckingStore() {
      super(BlockStores.inMemory(BS, 1 << 12));
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
    CheckingStore store = new CheckingStore();
    VolumeConfig config = VolumeConfig.DEFAULT.withDirtyLimit(DataSize.ofBytes(4 * BS));
    Random random = new Random(11);
    byte[] model = new byte[BLOCKS * BS];
    try (VolumeFixture f = VolumeFixture.build(BS, config,
        s -> KvMetadata.inMemory(Clock.systemUTC(), s), store)) {
      join(f.volumes.catalog().create("v", (long) BLOCKS * BS));
      try (BlockVolume v = join(f.volumes.openWritable("v"))) {
        for (int op = 0; op < 2_000; op++) {
          int block = random.nextInt(BLOCKS);
          switch (random.nextInt(4)) {
            case 0 -> { // the NBD server's way: a buffer the volume keeps
              ByteBuf buf = v.bufferAllocator().directBuffer(BS, BS);
              byte[] bytes = randomBytes(random, BS);
              buf.writeBytes(bytes);
              join(v.write((long) block * BS, buf));
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

  private static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }
}
