package dev.torus.cli;

import dev.torus.cli.ctl.BlockCommand;
import dev.torus.cli.ctl.ConfigCommand;
import dev.torus.cli.ctl.InitCommand;
import dev.torus.cli.ctl.PeerCommand;
import dev.torus.cli.ctl.RingCommand;
import dev.torus.cli.ctl.VolumeCommand;
import dev.torus.cli.ctl.WipeCommand;
import dev.torus.server.options.CommandLines;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.server.options.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;

/** {@code torusctl}: administers a Torus cluster. Only {@link #main} exits the process. */
@Command(name = "torusctl", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Administer a Torus cluster: initialise it, manage volumes, snapshots, peers and the ring.",
    subcommands = {InitCommand.class, VolumeCommand.class, BlockCommand.class, PeerCommand.class,
        RingCommand.class, ConfigCommand.class, WipeCommand.class, CommandLine.HelpCommand.class})
public final class TorusCtl {
  @Mixin
  ConnectionOptions connection;

  @Mixin
  DataPathOptions dataPath;

  private final ClientFactory factory;

  public TorusCtl(ClientFactory factory) {
    this.factory = factory;
  }

  public static void main(String[] args) {
    System.exit(execute(new DefaultClientFactory("torusctl"), args));
  }

  /** Runs one command line and returns its exit code; output goes to the process streams. */
  public static int execute(ClientFactory factory, String... args) {
    return commandLine(factory).execute(args);
  }

  /** The configured command line, for tests that capture its output. */
  public static CommandLine commandLine(ClientFactory factory) {
    TorusCtl root = new TorusCtl(factory);
    CommandLine cmd = new CommandLine(root);
    cmd.addSubcommand("list-peers", new PeerCommand.ListPeers()); // the original's spelling
    return CommandLines.configure(cmd, "torusctl", () -> root.connection.debug());
  }

  /** This invocation's connection options. */
  public ConnectionOptions connection() {
    return connection;
  }

  /** Opens a session with this invocation's connection options. */
  public CliSession open() {
    return factory.open(connection, dataPath);
  }

}
