package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.server.options.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code torusblk nbdserve} refuses bad options before it connects to anything. */
final class NbdServeOptionsTest {
  private static final ClientFactory NO_SESSIONS = (connection, dataPath, meters) -> {
    throw new AssertionError("a usage error must not connect");
  };

  @Test
  void anIdlePollOver10msIsAUsageError() {
    CommandLine cmd = TorusBlk.commandLine(NO_SESSIONS);
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute("nbdserve", "-l", "127.0.0.1:0", "--idle-poll", "11ms");

    assertThat(exit).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--idle-poll must be at most 10ms");
  }

  @Test
  void tlsOptionsThatDoNotMakeATlsSetupAreUsageErrors(@TempDir Path dir) throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not checked before the server starts");
    String[][] cases = {
        {"--tls-cert", cert.toString()},
        {"--tls-required"},
        {"--tls-client-ca", cert.toString()},
        {"--tls-cert", cert.toString(), "--tls-key", dir.resolve("missing.pem").toString()},
    };
    String[] reasons = {
        "--tls-cert and --tls-key go together",
        "--tls-required needs --tls-cert and --tls-key",
        "--tls-client-ca needs --tls-cert and --tls-key",
        "--tls-key " + dir.resolve("missing.pem") + ": not a readable file",
    };
    for (int i = 0; i < cases.length; i++) {
      CommandLine cmd = TorusBlk.commandLine(NO_SESSIONS);
      StringWriter err = new StringWriter();
      cmd.setErr(new PrintWriter(err));
      List<String> args = new ArrayList<>(List.of("nbdserve", "-l", "127.0.0.1:0"));
      args.addAll(List.of(cases[i]));

      int exit = cmd.execute(args.toArray(String[]::new));

      assertThat(exit).as(String.join(" ", cases[i])).isEqualTo(ExitCodes.USAGE);
      assertThat(err.toString()).contains(reasons[i]);
    }
  }

  @Test
  void anIdlePollWithoutUnitIsAUsageError() {
    CommandLine cmd = TorusBlk.commandLine(NO_SESSIONS);
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute("nbdserve", "--idle-poll", "50");

    assertThat(exit).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("invalid duration '50'");
  }
}
