package dev.torus.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.DataSize;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class PeerTransportConfigTest {
  @Test
  void theBuilderStartsFromTheDefaults() {
    assertThat(PeerTransportConfig.builder().build()).isEqualTo(PeerTransportConfig.DEFAULT);
    PeerTransportConfig c = PeerTransportConfig.DEFAULT.toBuilder()
        .callTimeout(Duration.ofMillis(300)).connectionsPerPeer(4).build();
    assertThat(c.readTimeout()).isEqualTo(c.writeTimeout()).isEqualTo(c.flushTimeout())
        .isEqualTo(Duration.ofMillis(300));
    assertThat(c.connectionsPerPeer()).isEqualTo(4);
    assertThat(c.toBuilder().build()).isEqualTo(c);
  }

  @Test
  void settersRefuseBadValuesAtOnce() {
    PeerTransportConfig.Builder b = PeerTransportConfig.builder();
    assertThatThrownBy(() -> b.readTimeout(Duration.ZERO)).hasMessageContaining("readTimeout");
    assertThatThrownBy(() -> b.flushTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("flushTimeout");
    assertThatThrownBy(() -> b.connectionsPerPeer(0)).hasMessageContaining("connectionsPerPeer");
    assertThatThrownBy(() -> b.maxInFlightPerConnection(0)).hasMessageContaining("maxInFlight");
    assertThatThrownBy(() -> b.maxFrameSize(DataSize.ofKibibytes(64)))
        .hasMessageContaining("maxFrameSize");
    assertThatThrownBy(() -> b.maxFrameSize(DataSize.ofMebibytes(65)))
        .hasMessageContaining("maxFrameSize");
    assertThatThrownBy(() -> b.keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(10)))
        .hasMessageContaining("longer than keepAliveInterval");
    assertThatThrownBy(() -> b.reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("shorter than reconnectBackoffMin");
    assertThat(b.build()).isEqualTo(PeerTransportConfig.DEFAULT);
  }

  @Test
  void theConstructorChecksHowFieldsRelate() {
    PeerTransportConfig d = PeerTransportConfig.DEFAULT;
    assertThatThrownBy(() -> new PeerTransportConfig(d.connectTimeout(), d.readTimeout(),
        d.writeTimeout(), d.flushTimeout(), d.maxFrameSize(), d.maxInFlightPerConnection(),
        d.maxQueuedPerConnection(), d.connectionsPerPeer(), Duration.ofSeconds(30),
        Duration.ofSeconds(5), d.reconnectBackoffMin(), d.reconnectBackoffMax(), d.ioThreads()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idleTimeout");
  }
}
