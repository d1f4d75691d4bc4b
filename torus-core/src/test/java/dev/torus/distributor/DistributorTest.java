package dev.torus.distributor;

import static dev.torus.internal.concurrent.Futures.join;
import static dev.torus.storage.Blocks.drain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.ReadLevel;
import dev.torus.TorusException;
import dev.torus.VolumeId;
import dev.torus.WriteLevel;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.storage.BlockStore;
import dev.torus.storage.ForwardingBlockStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class DistributorTest {
  LocalCluster cluster = new LocalCluster(3, 2);

  @AfterEach
  void tearDown() throws Exception {
    cluster.close();
  }

  static BlockRef ref(long i) {
    return new BlockRef(new VolumeId(7), 3, i, BlockType.DATA);
  }

  static byte[] block(long seed) {
    byte[] b = new byte[LocalCluster.BLOCK];
    new Random(seed).nextBytes(b);
    return b;
  }

  static void assertCode(ErrorCode code, Runnable r) {
    assertThatThrownBy(r::run).isInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(code));
  }

  /** Writes blocks 0 to {@code n - 1} through a client and flushes them. */
  private void writeAndFlush(int n) {
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    for (int i = 0; i < n; i++) {
      join(client.putBlock(ref(i), Unpooled.wrappedBuffer(block(i))));
    }
    join(client.flush());
  }

  @Test
  void writesGoToEveryOwnerAndReadBackFromAnyNode() {
    writeAndFlush(50);
    for (int i = 0; i < 50; i++) {
      assertThat(cluster.copies(ref(i))).as("replicas of block %d", i).isEqualTo(2);
    }
    Distributor node = cluster.distributor(1, DistributorConfig.DEFAULT.withReadCache(DataSize.ofBytes(0)));
    for (int i = 0; i < 50; i++) {
      assertThat(drain(join(node.getBlock(ref(i))))).isEqualTo(block(i));
    }
  }

  @Test
  void aNodeReadsItsOwnCopiesOfSeveralBlocksInParallelOnItsStore() {
    writeAndFlush(20);
    AtomicInteger inParallel = new AtomicInteger();
    BlockStore own = new ForwardingBlockStore(cluster.stores.get(0)) {
      @Override
      public CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
        inParallel.incrementAndGet();
        return store.getBlockInParallel(ref, expectedCrc);
      }
    };
    Distributor node = cluster.distributor(0,
        DistributorConfig.DEFAULT.withReadCache(DataSize.ofBytes(0)), own);
    int owned = 0;
    for (int i = 0; i < 20; i++) {
      int crc = Crc32c.of(block(i), 0, LocalCluster.BLOCK);
      assertThat(drain(join(node.getBlockInParallel(ref(i), crc)))).isEqualTo(block(i));
      owned += join(own.hasBlock(ref(i))) ? 1 : 0;
    }
    assertThat(owned).as("blocks node 0 holds a copy of").isPositive();
    assertThat(inParallel.get()).as("its own copies, read on its store's threads").isEqualTo(owned);
    int wrong = Crc32c.of(block(0), 0, LocalCluster.BLOCK) + 1;
    assertCode(ErrorCode.CORRUPTED, () -> join(node.getBlockInParallel(ref(0), wrong)));
  }

  @Test
  void readsFailOverWhenAReplicaIsDown() {
    Distributor writer = cluster.distributor(-1, DistributorConfig.DEFAULT);
    for (int i = 0; i < 30; i++) {
      join(writer.putBlock(ref(i), Unpooled.wrappedBuffer(block(i))));
    }
    cluster.transport.failPeer(cluster.ids.get(0));
    for (ReadLevel level : ReadLevel.values()) {
      Distributor reader = cluster.distributor(-1, DistributorConfig.DEFAULT.withReadLevel(level)
          .withReadCache(DataSize.ofBytes(0)));
      for (int i = 0; i < 30; i++) {
        assertThat(drain(join(reader.getBlock(ref(i))))).as(level + " block " + i).isEqualTo(block(i));
      }
    }
  }

  @Test
  void aFailedOwnerIsReplacedByTheNextPeer() {
    cluster.transport.failPeer(cluster.ids.get(2));
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    for (int i = 0; i < 30; i++) {
      BlockRef r = ref(i);
      join(client.putBlock(r, Unpooled.wrappedBuffer(block(i))));
      long healthy = cluster.stores.subList(0, 2).stream().filter(s -> join(s.hasBlock(r))).count();
      assertThat(healthy).as("both healthy nodes hold block %d", i).isEqualTo(2);
    }
  }

  @Test
  void tooFewReplicasIsAFailureNeverASuccess() {
    cluster.transport.failPeer(cluster.ids.get(1));
    cluster.transport.failPeer(cluster.ids.get(2));
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    assertThatThrownBy(() -> join(client.putBlock(ref(1), Unpooled.wrappedBuffer(block(1)))))
        .isInstanceOf(TorusException.class).hasMessageContaining("1 of 2 replicas");
    Distributor one = cluster.distributor(-1, DistributorConfig.DEFAULT.withWriteLevel(WriteLevel.ONE));
    join(one.putBlock(ref(2), Unpooled.wrappedBuffer(block(2))));
    assertThat(cluster.copies(ref(2))).isEqualTo(1);
  }

  @Test
  void missingEverywhereIsNotFoundAndUnreachableIsUnavailable() {
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    assertCode(ErrorCode.NOT_FOUND, () -> join(client.getBlock(ref(99))));
    assertThat(join(client.hasBlock(ref(99)))).isFalse();
    join(client.putBlock(ref(5), Unpooled.wrappedBuffer(block(5))));
    cluster.ids.forEach(cluster.transport::failPeer);
    Distributor cold = cluster.distributor(-1, DistributorConfig.DEFAULT.withReadCache(DataSize.ofBytes(0)));
    assertThatThrownBy(() -> join(cold.getBlock(ref(5)))).isInstanceOf(TorusException.class)
        .hasMessageContaining("unavailable").hasMessageContaining("node-")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void flushReachesEveryPeerWrittenAndReportsFailures() {
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    join(client.putBlock(ref(1), Unpooled.wrappedBuffer(block(1))));
    join(client.flush());
    join(client.putBlock(ref(2), Unpooled.wrappedBuffer(block(2))));
    dev.torus.PeerId down = cluster.stores.stream().filter(s -> join(s.hasBlock(ref(2)))).findFirst()
        .map(s -> cluster.ids.get(cluster.stores.indexOf(s))).orElseThrow();
    cluster.transport.failPeer(down);
    assertThatThrownBy(() -> join(client.flush())).hasMessageContaining("flush failed on " + down);
    cluster.transport.healPeer(down);
    join(client.flush());
  }

  @Test
  void aCheckedReadSkipsAStaleReplicaForOneThatMatches() {
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT.withReadCache(DataSize.ofBytes(0)));
    join(client.putBlock(ref(1), Unpooled.wrappedBuffer(block(1))));
    int good = Crc32c.of(block(1), 0, LocalCluster.BLOCK);
    // The first owner keeps an older version under the same ref, as after a missed rewrite.
    List<Integer> holders = new ArrayList<>();
    for (int i = 0; i < cluster.stores.size(); i++) {
      if (join(cluster.stores.get(i).hasBlock(ref(1)))) {
        holders.add(i);
      }
    }
    join(cluster.stores.get(holders.get(0)).putBlock(ref(1), Unpooled.wrappedBuffer(block(2))));
    for (ReadLevel level : ReadLevel.values()) {
      Distributor reader = cluster.distributor(-1, DistributorConfig.DEFAULT.withReadLevel(level)
          .withReadCache(DataSize.ofBytes(0)));
      assertThat(drain(join(reader.getBlock(ref(1), good)))).as(level.cliName()).isEqualTo(block(1));
    }
    join(cluster.stores.get(holders.get(1)).putBlock(ref(1), Unpooled.wrappedBuffer(block(3))));
    assertThatThrownBy(() -> join(client.getBlock(ref(1), good)))
        .isInstanceOf(TorusException.class).hasMessageContaining("no replica")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.CORRUPTED));
  }

  @Test
  void blocksFetchedFromPeersAreCachedAndLocalOnesAreNot() {
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT);
    join(client.putBlock(ref(1), Unpooled.wrappedBuffer(block(1))));
    assertThat(drain(join(client.getBlock(ref(1))))).isEqualTo(block(1));
    cluster.ids.forEach(cluster.transport::failPeer);
    assertThat(drain(join(client.getBlock(ref(1))))).as("served from the cache").isEqualTo(block(1));
    assertThat(drain(join(client.getBlock(ref(1), Crc32c.of(block(1), 0, LocalCluster.BLOCK)))))
        .isEqualTo(block(1));
    cluster.ids.forEach(cluster.transport::healPeer);

    join(client.putBlock(ref(2), Unpooled.wrappedBuffer(block(2))));
    int owner = IntStream.range(0, cluster.stores.size())
        .filter(i -> join(cluster.stores.get(i).hasBlock(ref(2)))).findFirst().orElseThrow();
    Distributor node = cluster.distributor(owner, DistributorConfig.DEFAULT);
    assertThat(drain(join(node.getBlock(ref(2))))).isEqualTo(block(2));
    join(cluster.stores.get(owner).deleteBlock(ref(2)));
    cluster.ids.stream().filter(id -> !id.equals(cluster.ids.get(owner)))
        .forEach(cluster.transport::failPeer);
    assertCode(ErrorCode.UNAVAILABLE, () -> join(node.getBlock(ref(2)))); // its own copy was not cached
  }

  @Test
  void theReadCacheNeverServesAnOlderWrite() {
    Distributor node = cluster.distributor(0, DistributorConfig.DEFAULT);
    join(node.putBlock(ref(1), Unpooled.wrappedBuffer(block(1))));
    assertThat(drain(join(node.getBlock(ref(1))))).isEqualTo(block(1));
    join(node.putBlock(ref(1), Unpooled.wrappedBuffer(block(2))));
    assertThat(drain(join(node.getBlock(ref(1))))).isEqualTo(block(2));
  }

}
