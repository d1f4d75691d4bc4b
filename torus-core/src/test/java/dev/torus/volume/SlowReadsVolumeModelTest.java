package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.DataSize;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.storage.BlockStores;
import dev.torus.storage.ForwardingBlockStore;
import io.netty.buffer.ByteBuf;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The model run over a store whose reads complete a moment later on another thread, as the file
 * store's and a cluster's do: partial writes are acknowledged while their blocks' old content is
 * still being read, and reads, commits, snapshots and write-backs of those blocks wait for it.
 */
final class SlowReadsVolumeModelTest implements VolumeModelContract {
  @Override
  public VolumeFixture newFixture() {
    return VolumeFixture.build(BLOCK, VolumeConfig.DEFAULT
            .withDirtyLimit(DataSize.ofKibibytes(32)).withCommitInterval(Duration.ofMillis(50))
            .withReclaimDelay(Duration.ofMillis(5)),
        s -> KvMetadata.inMemory(Clock.systemUTC(), s),
        new ForwardingBlockStore(BlockStores.inMemory(BLOCK, 1 << 20)) {
          @Override
          public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
            return later().thenCompose(v -> store.getBlock(ref));
          }

          @Override
          public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
            return later().thenCompose(v -> store.getBlock(ref, expectedCrc));
          }
        });
  }

  /** Completes up to 300 µs from now on another thread, as a store's read does. */
  static CompletableFuture<Void> later() {
    Executor delayed = CompletableFuture.delayedExecutor(
        ThreadLocalRandom.current().nextInt(300), TimeUnit.MICROSECONDS);
    return CompletableFuture.runAsync(() -> { }, delayed);
  }
}
