package dev.torus.cli;

import dev.torus.cli.blk.NbdAttachCommand;
import dev.torus.cli.blk.NbdServeCommand;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.server.options.ErrorHandler;
import dev.torus.server.options.ExitCodes;
import dev.torus.server.options.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code torusblk}: serves Torus volumes to hosts as block devices. */
@Command(name = "torusblk", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Serve Torus volumes as block devices: over NBD, or attached to /dev/nbdX.",
    subcommands = {NbdServeCommand.class, NbdAttachCommand.class, CommandLine.HelpCommand.class})
public final class TorusBlk implements Callable<Integer> {
  @Mixin
  ConnectionOptions connection;

  @Mixin
  DataPathOptions dataPath;

  @Spec
  CommandSpec spec;

  private final ClientFactory factory;

  public TorusBlk(ClientFactory factory) {
    this.factory = factory;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new DefaultClientFactory()).execute(args));
  }

  /** The configured command line. */
  public static CommandLine commandLine(ClientFactory factory) {
    TorusBlk root = new TorusBlk(factory);
    CommandLine cmd = new CommandLine(root);
    cmd.setExecutionExceptionHandler(new ErrorHandler(() -> root.connection.debug()));
    cmd.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("torusblk: " + ex.getMessage());
      ex.getCommandLine().usage(ex.getCommandLine().getErr());
      return ExitCodes.USAGE;
    });
    return cmd;
  }

  /** Opens a session with this invocation's options. */
  public CliSession open() {
    return factory.open(connection, dataPath);
  }

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("torusblk: missing command");
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }
}
