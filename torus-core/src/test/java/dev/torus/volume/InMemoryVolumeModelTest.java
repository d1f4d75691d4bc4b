package dev.torus.volume;

import dev.torus.DataSize;
import dev.torus.transport.LeakCheck;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The model run over in-memory metadata and store, with a tiny dirty limit to force write-back and
 * replaced blocks deleted moments after each commit, while snapshots, clones and reads go on. No
 * buffer may leak: the store keeps the volume's buffers, and written-back blocks keep them too.
 */
@ExtendWith(LeakCheck.class)
final class InMemoryVolumeModelTest implements VolumeModelContract {
  @Override
  public VolumeFixture newFixture() {
    return VolumeFixture.inMemory(BLOCK, VolumeConfig.DEFAULT
        .withDirtyLimit(DataSize.ofKibibytes(32)).withCommitInterval(Duration.ofMillis(50))
        .withReclaimDelay(Duration.ofMillis(5)));
  }
}
