package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.server.TorusDaemon;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command and subcommand of torusctl, torusblk and torusd prints its usage for -h/--help. */
final class HelpOptionsTest {
  private static final ClientFactory NO_SESSIONS = (connection, dataPath, meters) -> {
    throw new AssertionError("help must not connect");
  };

  @Test
  void torusctl() {
    everyCommandTakesHelp(() -> TorusCtl.commandLine(NO_SESSIONS));
  }

  @Test
  void torusblk() {
    everyCommandTakesHelp(() -> TorusBlk.commandLine(NO_SESSIONS));
  }

  @Test
  void torusd() {
    everyCommandTakesHelp(TorusDaemon::commandLine);
  }

  @Test
  void subcommandsShowTheProgramVersion() {
    CommandLine cmd = TorusCtl.commandLine(NO_SESSIONS);
    StringWriter out = new StringWriter();
    cmd.setOut(new PrintWriter(out));

    assertThat(cmd.execute("volume", "--version")).isZero();
    assertThat(out.toString()).as(out.toString()).startsWith("torusctl ");
  }

  private static void everyCommandTakesHelp(Supplier<CommandLine> program) {
    List<List<String>> paths = new ArrayList<>();
    collect(program.get(), List.of(), paths);
    assertThat(paths).hasSizeGreaterThan(0);
    for (List<String> path : paths) {
      for (String flag : List.of("-h", "--help")) {
        CommandLine cmd = program.get();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        List<String> args = new ArrayList<>(path);
        args.add(flag);

        int exit = cmd.execute(args.toArray(String[]::new));

        String line = cmd.getCommandName() + " " + String.join(" ", args);
        assertThat(exit).as(line + ": " + err).isZero();
        assertThat(out.toString()).as(line).contains("Usage: " + cmd.getCommandName());
      }
    }
  }

  /** The argument paths to every command under {@code cmd}, aliases included. */
  private static void collect(CommandLine cmd, List<String> path, List<List<String>> paths) {
    paths.add(path);
    for (Map.Entry<String, CommandLine> sub : cmd.getSubcommands().entrySet()) {
      List<String> subPath = new ArrayList<>(path);
      subPath.add(sub.getKey());
      collect(sub.getValue(), subPath, paths);
    }
  }
}
