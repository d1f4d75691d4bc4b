package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.cli.CliSession;
import dev.torus.distributor.RingChanges;
import dev.torus.ring.Ring;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code torusctl ring ...}: the placement ring. */
@Command(name = "ring", description = "Show and change the placement ring.",
    subcommands = {RingCommand.Get.class, RingCommand.SetReplication.class, CommandLine.HelpCommand.class})
public final class RingCommand {
  /** {@code ring get}. */
  @Command(name = "get", description = "Print the current ring: type, version, replication, peers.")
  public static final class Get extends CtlCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      try (CliSession s = open()) {
        out().println(join(s.metadata().rings().current()).value().describe());
        return 0;
      }
    }
  }

  /** {@code ring set-replication N}. */
  @Command(name = "set-replication", description = "Set how many copies of each block the ring keeps.")
  public static final class SetReplication extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "N", description = "copies per block, at least 1")
    int replication;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        Ring ring = RingChanges.setReplication(s.metadata().rings(), replication);
        out().println("Ring is now version " + ring.version() + " with replication " + ring.replication()
            + (ring.replication() > ring.members().size()
                ? " (only " + ring.members().size() + " peers: each block gets one copy per peer until more join)"
                : ""));
        return 0;
      }
    }
  }
}
