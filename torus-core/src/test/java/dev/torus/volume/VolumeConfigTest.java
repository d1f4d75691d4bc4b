package dev.torus.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
