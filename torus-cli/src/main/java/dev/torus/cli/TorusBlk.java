package dev.torus.cli;

import dev.torus.cli.blk.NbdAttachCommand;
import dev.torus.cli.blk.NbdServeCommand;
import dev.torus.server.options.CommandLines;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.server.options.Version;
import io.micrometer.core.instrument.MeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;

/** {@code torusblk}: serves Torus volumes to hosts as block devices. */
@Command(name = "torusblk", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Serve Torus volumes as block devices: over NBD, or attached to /dev/nbdX.",
    subcommands = {NbdServeCommand.class, NbdAttachCommand.class, CommandLine.HelpCommand.class})
public final class TorusBlk {
  @Mixin
  ConnectionOptions connection;

  @Mixin
  DataPathOptions dataPath;

  private final ClientFactory factory;

  public TorusBlk(ClientFactory factory) {
    this.factory = factory;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new DefaultClientFactory("torusblk")).execute(args));
  }

  /** The configured command line. */
  public static CommandLine commandLine(ClientFactory factory) {
    TorusBlk root = new TorusBlk(factory);
    return CommandLines.configure(new CommandLine(root), "torusblk", () -> root.connection.debug());
  }

  /** Opens a session with this invocation's options. */
  public CliSession open() {
    return factory.open(connection, dataPath);
  }

  /** As {@link #open()}, with the cluster client's meters in {@code meters}. */
  public CliSession open(MeterRegistry meters) {
    return factory.open(connection, dataPath, meters);
  }

}
