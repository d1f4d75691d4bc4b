package dev.torus.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.server.options.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

final class TorusDaemonTest {
  @TempDir
  Path dir;

  @Test
  void aLeaseTtlBelowEtcdsMinimumIsAUsageError() {
    for (String ttl : new String[] {"1s", "1500ms"}) {
      CommandLine cmd = TorusDaemon.commandLine();
      StringWriter err = new StringWriter();
      cmd.setErr(new PrintWriter(err));

      int exit = cmd.execute("--metadata", dir.resolve("meta.db").toString(),
          "--data-dir", dir.resolve("data").toString(), "--peer-address", "tcp://127.0.0.1:0",
          "--lease-ttl", ttl);

      assertThat(exit).as(ttl).isEqualTo(ExitCodes.USAGE);
      assertThat(err.toString().lines().findFirst()).hasValue(
          "torusd: --lease-ttl must be at least 2s, etcd's minimum lease TTL");
    }
  }

  @Test
  void anNbdIdlePollOver10msIsAUsageError() {
    CommandLine cmd = TorusDaemon.commandLine();
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute("--metadata", dir.resolve("meta.db").toString(),
        "--data-dir", dir.resolve("data").toString(), "--peer-address", "tcp://127.0.0.1:0",
        "--nbd", "127.0.0.1:0", "--nbd-idle-poll", "11ms");

    assertThat(exit).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString().lines().findFirst())
        .hasValue("torusd: --nbd-idle-poll must be at most 10ms");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void nbdTlsWithoutItsKeyIsAUsageErrorBeforeAnythingStarts() {
    CommandLine cmd = TorusDaemon.commandLine();
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute("--metadata", dir.resolve("meta.db").toString(),
        "--data-dir", dir.resolve("data").toString(), "--peer-address", "tcp://127.0.0.1:0",
        "--nbd", "127.0.0.1:0", "--nbd-tls-cert", dir.resolve("cert.pem").toString());

    assertThat(exit).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString().lines().findFirst())
        .hasValue("torusd: --nbd-tls-cert and --nbd-tls-key go together");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void durationsTakeMicroseconds() {
    assertThat(new DurationConverter().convert("50us")).isEqualTo(Duration.ofNanos(50_000));
    assertThat(new DurationConverter().convert("0us")).isEqualTo(Duration.ZERO);
  }
}
