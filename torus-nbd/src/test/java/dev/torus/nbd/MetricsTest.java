package dev.torus.nbd;

import static dev.torus.nbd.NbdTestClient.CMD_FLUSH;
import static dev.torus.nbd.NbdTestClient.CMD_READ;
import static dev.torus.nbd.NbdTestClient.CMD_WRITE;
import static dev.torus.nbd.NbdTestClient.EINVAL;
import static dev.torus.nbd.NbdTestClient.ENOSPC;
import static dev.torus.nbd.NbdTestClient.EPERM;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.nbd.NbdTestClient.Mode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The server's meters count what clients did, as they did it. */
final class MetricsTest {
  private static final byte[] NONE = new byte[0];
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double counted(String name, String... tags) {
    return registry.get(name).tags(tags).functionCounter().count();
  }

  private double open() {
    return registry.get("torus_nbd_connections").gauge().value();
  }

  @Test
  void countConnectionsRequestsErrorsAndBytes() {
    try (ServerFixture fixture = new ServerFixture()) {
      fixture.server.bindTo(registry);
      NbdTestClient disk = fixture.open("disk", Mode.STRUCTURED);
      NbdTestClient ro = fixture.open("ro", Mode.SIMPLE);
      assertThat(open()).isEqualTo(2);

      disk.write(0, new byte[8192]);
      disk.read(4096, 4096);
      assertThat(disk.call(0, CMD_FLUSH, 0, 0, NONE).ok()).isTrue();
      assertThat(disk.call(0, CMD_WRITE, ServerFixture.SIZE, 1, new byte[1]).error())
          .isEqualTo(ENOSPC);
      assertThat(disk.call(0, CMD_READ, ServerFixture.SIZE - 1, 2, NONE).error()).isEqualTo(EINVAL);
      assertThat(disk.call(0, 99, 0, 0, NONE).error()).isEqualTo(EINVAL);
      assertThat(ro.call(0, CMD_WRITE, 0, 4, new byte[4]).error()).isEqualTo(EPERM);
      disk.disconnect();
      ro.send(new byte[28]); // a request with a wrong magic: the server hangs up
      assertThat(disk.awaitClosed(Duration.ofSeconds(10))).isTrue();
      assertThat(ro.awaitClosed(Duration.ofSeconds(10))).isTrue();

      assertThat(counted("torus_nbd_connections_accepted")).isEqualTo(2);
      assertThat(counted("torus_nbd_connections_dropped")).isEqualTo(1);
      assertThat(counted("torus_nbd_requests", "command", "write")).isEqualTo(3);
      assertThat(counted("torus_nbd_requests", "command", "read")).isEqualTo(2);
      assertThat(counted("torus_nbd_requests", "command", "flush")).isEqualTo(1);
      assertThat(counted("torus_nbd_requests", "command", "disc")).isEqualTo(1);
      assertThat(counted("torus_nbd_requests", "command", "unknown")).isEqualTo(1);
      assertThat(counted("torus_nbd_requests", "command", "trim")).isZero();
      assertThat(counted("torus_nbd_error_replies", "error", "ENOSPC")).isEqualTo(1);
      assertThat(counted("torus_nbd_error_replies", "error", "EINVAL")).isEqualTo(2);
      assertThat(counted("torus_nbd_error_replies", "error", "EPERM")).isEqualTo(1);
      assertThat(counted("torus_nbd_error_replies", "error", "EIO")).isZero();
      assertThat(counted("torus_nbd_written")).as("bytes of successful writes").isEqualTo(8192);
      assertThat(counted("torus_nbd_read")).as("bytes of successful reads").isEqualTo(4096);
    }
    assertThat(open()).as("no connection outlives the server").isZero();
  }
}
