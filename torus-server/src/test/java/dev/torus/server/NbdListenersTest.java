package dev.torus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code torusd --nbd / --nbd-unix / --nbd-export}: exactly the listeners asked for, named in the
 * startup line.
 */
final class NbdListenersTest {
  private static final Duration IDLE = NbdServerConfig.DEFAULT_IDLE_POLL;

  private static final InetSocketAddress ANY_LOOPBACK_PORT =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  @TempDir
  Path dir;

  @Test
  void aUnixSocketAloneOpensNoTcpPort() {
    Path socket = dir.resolve("nbd.sock");
    NbdListeners listeners = new NbdListeners(null, socket, IDLE, null, Set.of());

    assertThat(listeners.config().bindAddress()).isNull();
    try (NbdServer server = start(listeners)) {
      assertThat(socket).exists();
      assertThatThrownBy(server::boundAddress).isInstanceOf(IllegalStateException.class);
      assertThat(listeners.describe(server)).isEqualTo("nbd+unix:///?socket=" + socket);
    }
  }

  @Test
  void bothAreServedAndNamed() {
    Path socket = dir.resolve("nbd.sock");
    NbdListeners listeners = new NbdListeners(ANY_LOOPBACK_PORT, socket, IDLE, null, Set.of());

    try (NbdServer server = start(listeners)) {
      assertThat(socket).exists();
      assertThat(listeners.describe(server)).isEqualTo(
          "nbd://" + server.boundAddress().getHostString() + ":" + server.boundAddress().getPort()
              + " and nbd+unix:///?socket=" + socket);
    }
  }

  @Test
  void tcpAloneOpensNoSocket() {
    NbdListeners listeners = new NbdListeners(ANY_LOOPBACK_PORT, null, Duration.ofMillis(1), null,
        Set.of());

    assertThat(listeners.config().unixSocket()).isNull();
    assertThat(listeners.config().idlePoll()).isEqualTo(Duration.ofMillis(1));
    try (NbdServer server = start(listeners)) {
      assertThat(listeners.describe(server))
          .isEqualTo("nbd://" + server.boundAddress().getHostString() + ":"
              + server.boundAddress().getPort());
    }
  }

  @Test
  void noFlagsAskForNothing() {
    assertThat(new NbdListeners(null, null, IDLE, null, Set.of()).any()).isFalse();
    assertThat(new NbdListeners(null, dir.resolve("s"), IDLE, null, Set.of()).any()).isTrue();
  }

  @Test
  void oneExportIsTheDefaultExport() {
    Path socket = dir.resolve("nbd.sock");
    assertThat(new NbdListeners(null, socket, IDLE, null, Set.of("disk")).config().defaultExport())
        .isEqualTo("disk");
    assertThat(new NbdListeners(null, socket, IDLE, null, Set.of("disk", "other")).config()
        .defaultExport()).as("none of two").isNull();
    assertThat(new NbdListeners(null, socket, IDLE, null, Set.of()).config().defaultExport())
        .as("none of every volume").isNull();
  }

  private static NbdServer start(NbdListeners listeners) {
    return NbdServer.start(listeners.config(), ExportResolver.ofDevices(Map.of()));
  }
}
