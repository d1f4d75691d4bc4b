package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.server.options.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code torusblk nbdserve} refuses bad options before it connects to anything. */
final class NbdServeOptionsTest {
  private static final ClientFactory NO_SESSIONS = (connection, dataPath) -> {
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
  void anIdlePollWithoutUnitIsAUsageError() {
    CommandLine cmd = TorusBlk.commandLine(NO_SESSIONS);
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));

    int exit = cmd.execute("nbdserve", "--idle-poll", "50");

    assertThat(exit).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("invalid duration '50'");
  }
}
