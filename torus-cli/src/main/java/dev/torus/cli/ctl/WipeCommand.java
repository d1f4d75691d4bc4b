package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.cli.CliSession;
import dev.torus.server.options.ExitCodes;
import java.io.Console;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code torusctl wipe}: deletes every Torus key of the metadata store, after explicit
 * confirmation: the flag, or typing {@code YES} at a terminal. Nothing is ever wiped by default.
 */
@Command(name = "wipe",
    description = {"Delete all Torus metadata: every volume, snapshot and peer record, the ring and"
        + " the cluster settings. The blocks on the storage nodes become garbage; start again"
        + " with 'torusctl init'.",
        "Asks you to type YES when run at a terminal; elsewhere it needs --yes-i-am-sure."})
public final class WipeCommand extends CtlCommand implements Callable<Integer> {
  @Option(names = "--yes-i-am-sure", description = "wipe without asking")
  boolean sure;

  @Override
  public Integer call() {
    Console console = System.console();
    if (!sure && console == null) { // checked before connecting: a refusal changes nothing
      throw new CommandLine.ParameterException(spec.commandLine(), "wipe deletes all Torus"
          + " metadata; confirm with --yes-i-am-sure");
    }
    try (CliSession s = open()) {
      String location = s.metadata().location();
      if (!sure && !"YES".equals(console.readLine("This deletes all Torus metadata at %s.%n"
          + "Please type `YES`, all caps, to confirm: ", location))) {
        err().println("torusctl: not confirmed; nothing was wiped");
        return ExitCodes.FAILURE;
      }
      join(s.metadata().wipe());
      out().println("Wiped all Torus metadata at " + location
          + "; run 'torusctl init' to start again");
      return 0;
    }
  }
}
