package dev.torus.volume;

import dev.torus.DataSize;
import java.time.Duration;

/**
 * The model run over in-memory metadata and store, with a tiny dirty limit to force write-back and
 * replaced blocks deleted moments after each commit, while snapshots, clones and reads go on.
 */
final class InMemoryVolumeModelTest implements VolumeModelContract {
  @Override
  public VolumeFixture newFixture() {
    return VolumeFixture.inMemory(BLOCK, VolumeConfig.DEFAULT
        .withDirtyLimit(DataSize.ofKibibytes(32)).withCommitInterval(Duration.ofMillis(50))
        .withReclaimDelay(Duration.ofMillis(5)));
  }
}
