package dev.torus.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.DataSize;
import dev.torus.metadata.LeaseKeeper;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class VolumeConfigTest {
  @Test
  void theLockLeaseIsAtLeastEtcdsMinimum() {
    assertThatThrownBy(() -> VolumeConfig.DEFAULT.withLeaseTtl(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2s");
    assertThat(VolumeConfig.DEFAULT.withLeaseTtl(LeaseKeeper.MIN_TTL).leaseTtl())
        .isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void negativeDurationsAreRefused() {
    assertThatThrownBy(() -> VolumeConfig.DEFAULT.withFullStoreWait(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fullStoreWait");
    assertThatThrownBy(() -> VolumeConfig.DEFAULT.withCommitInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("commitInterval");
    assertThatThrownBy(() -> VolumeConfig.DEFAULT.withReclaimDelay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reclaimDelay");
    assertThat(VolumeConfig.DEFAULT.withFullStoreWait(Duration.ZERO).fullStoreWait()).isZero();
    assertThat(VolumeConfig.DEFAULT.withReclaimDelay(Duration.ZERO).reclaimDelay()).isZero();
  }

  @Test
  void theDefaultDirtyLimitIsAQuarterOfDirectMemoryWithinBounds() {
    assertThat(VolumeConfig.defaultDirtyLimit(2L << 30)).isEqualTo(DataSize.ofMebibytes(512));
    assertThat(VolumeConfig.defaultDirtyLimit(128L << 20)).as("at least 64 MiB")
        .isEqualTo(DataSize.ofMebibytes(64));
    assertThat(VolumeConfig.defaultDirtyLimit(16L << 30)).as("at most 1 GiB")
        .isEqualTo(DataSize.ofGibibytes(1));
  }
}
