package dev.torus.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.server.options.ExitCodes;
import dev.torus.volume.VolumeConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

final class TorusDaemonTest {
  @TempDir
  Path dir;

  /** The first line torusd prints on stderr after exiting with a usage error. */
  private String usageError(String... extra) {
    CommandLine cmd = TorusDaemon.commandLine();
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute(args(extra));

    assertThat(exit).as(String.join(" ", extra)).isEqualTo(ExitCodes.USAGE);
    assertThat(dir.resolve("data")).as("nothing started").doesNotExist();
    return err.toString().lines().findFirst().orElse("");
  }

  private String[] args(String... extra) {
    List<String> args = new ArrayList<>(List.of("--metadata", dir.resolve("meta.db").toString(),
        "--data-dir", dir.resolve("data").toString(), "--peer-address", "tcp://127.0.0.1:0"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  private ServerConfig config(String... extra) {
    CommandLine cmd = TorusDaemon.commandLine();
    cmd.parseArgs(args(extra));
    return ((TorusDaemon) cmd.getCommand()).config();
  }

  @Test
  void theDirtyLimitIsTheDefaultUnlessGiven() {
    assertThat(config().volumes().dirtyLimit()).isEqualTo(VolumeConfig.DEFAULT.dirtyLimit());
    assertThat(config("--dirty-limit", "256MiB").volumes().dirtyLimit())
        .isEqualTo(DataSize.ofMebibytes(256));
  }

  @Test
  void aLeaseTtlBelowEtcdsMinimumIsAUsageError() {
    for (String ttl : new String[] {"1s", "1500ms"}) {
      assertThat(usageError("--lease-ttl", ttl))
          .isEqualTo("torusd: --lease-ttl must be at least 2s, etcd's minimum lease TTL");
    }
  }

  @Test
  void anNbdIdlePollOver10msIsAUsageError() {
    assertThat(usageError("--nbd", "127.0.0.1:0", "--nbd-idle-poll", "11ms"))
        .isEqualTo("torusd: --nbd-idle-poll must be at most 10ms");
  }

  @Test
  void nbdTlsWithoutItsKeyIsAUsageError() {
    String cert = dir.resolve("cert.pem").toString();
    assertThat(usageError("--nbd", "127.0.0.1:0", "--nbd-tls-cert", cert))
        .isEqualTo("torusd: --nbd-tls-cert and --nbd-tls-key go together");
  }

  @Test
  void nbdExportsAndTlsWithoutAListenerAreUsageErrors() throws IOException {
    assertThat(usageError("--nbd-export", "disk"))
        .isEqualTo("torusd: --nbd-export needs an NBD listener: --nbd HOST:PORT or --nbd-unix PATH");
    String pem = Files.createFile(dir.resolve("some.pem")).toString();
    assertThat(usageError("--nbd-tls-cert", pem, "--nbd-tls-key", pem))
        .isEqualTo("torusd: --nbd-tls-* needs an NBD listener: --nbd HOST:PORT or --nbd-unix PATH");
  }

  @Test
  void durationsTakeMicroseconds() {
    assertThat(new DurationConverter().convert("50us")).isEqualTo(Duration.ofNanos(50_000));
    assertThat(new DurationConverter().convert("0us")).isEqualTo(Duration.ZERO);
  }
}
