package dev.torus.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.server.options.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
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
}
