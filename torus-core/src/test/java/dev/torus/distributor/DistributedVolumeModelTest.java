package dev.torus.distributor;

import dev.torus.DataSize;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeFixture;
import dev.torus.volume.VolumeModelContract;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * The volume model run over a three-node, replication-2 cluster in one process, written through a
 * client distributor: replicated writes, fail-over reads and the read cache under real volume
 * traffic.
 */
final class DistributedVolumeModelTest implements VolumeModelContract {
  @Override
  public int steps() {
    return 1500;
  }

  @Override
  public VolumeFixture newFixture() {
    LocalCluster cluster = new LocalCluster(3, 2);
    Distributor client = cluster.distributor(-1, DistributorConfig.DEFAULT.withReadCache(DataSize.ofKibibytes(64)));
    return new VolumeFixture(cluster.metadata, client, VolumeConfig.DEFAULT
        .withDirtyLimit(DataSize.ofKibibytes(32)).withCommitInterval(Duration.ofMillis(50))
        .withReclaimDelay(Duration.ofMillis(5)),
        Executors.newScheduledThreadPool(1)) {
      @Override
      public void close() throws InterruptedException {
        super.close();
        try {
          cluster.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
  }
}
