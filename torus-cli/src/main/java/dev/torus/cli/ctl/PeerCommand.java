package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.cli.CliSession;
import dev.torus.cli.Table;
import dev.torus.distributor.RingChanges;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.PeerInfo;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code torusctl peer ...}: which storage nodes are in the ring. */
@Command(name = "peer", description = "List storage nodes and add them to or remove them from the ring.",
    subcommands = {PeerCommand.ListPeers.class, PeerCommand.Add.class, PeerCommand.Remove.class,
        CommandLine.HelpCommand.class})
public final class PeerCommand {
  /** {@code list-peers} / {@code peer list}. */
  @Command(name = "list", aliases = "ls", description = "List storage nodes: address, size, usage, ring membership.")
  public static final class ListPeers extends CtlCommand implements Callable<Integer> {
    @Option(names = {"-o", "--output"}, defaultValue = "table",
        description = "table, csv or json (default: ${DEFAULT-VALUE})")
    Table.OutputFormat format;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        GlobalMetadata global = join(s.metadata().global());
        Ring ring = join(s.metadata().rings().current()).value();
        Set<PeerId> members = ring.members().stream().map(RingMember::peer).collect(Collectors.toSet());
        List<PeerInfo> peers = new ArrayList<>(join(s.metadata().peers().list()));
        peers.removeIf(p -> p.address().isEmpty());
        peers.sort((a, b) -> a.address().compareTo(b.address()));
        Table t = new Table("ADDRESS", "UUID", "SIZE", "USED", "MEMBER", "UPDATED", "REBALANCING");
        long size = 0;
        long used = 0;
        boolean rebalancing = false;
        for (PeerInfo p : peers) {
          long bs = global.blockSize();
          size += p.capacityBlocks() * bs;
          used += p.usedBlocks() * bs;
          rebalancing |= p.rebalancing();
          t.row(p.address(), p.id(), DataSize.ofBytes(p.capacityBlocks() * bs).toHuman(),
              DataSize.ofBytes(p.usedBlocks() * bs).toHuman(), members.contains(p.id()) ? "OK" : "Avail",
              ago(p.lastSeen()), p.rebalancing() ? "yes" : "no");
        }
        Set<PeerId> registered = peers.stream().map(PeerInfo::id).collect(Collectors.toSet());
        for (PeerId m : members) {
          if (!registered.contains(m)) {
            t.row("", m, "???", "???", "DOWN", "Missing", "");
          }
        }
        t.print(out(), format);
        if (format == Table.OutputFormat.TABLE) {
          out().printf(Locale.ROOT, "Balanced: %s Usage: %5.2f%%%n", !rebalancing,
              size == 0 ? 0.0 : 100.0 * used / size);
          out().flush();
        }
        return 0;
      }
    }

    private static String ago(Instant when) {
      long s = Math.max(0, Duration.between(when, Instant.now()).toSeconds());
      return s < 120 ? s + " seconds ago" : (s / 60) + " minutes ago";
    }
  }

  /**
   * Registered peers named by address or uuid (all of them for {@code all}); {@code unregistered}
   * gives the peer for a name that matches none, or throws.
   */
  static List<PeerInfo> select(CliSession s, List<String> names, boolean all,
      Function<String, PeerInfo> unregistered) {
    if (all == !names.isEmpty()) {
      throw TorusExceptions.invalid(all
          ? "can't have both --all-peers and a list of peers"
          : "need to specify one of peer's address, uuid or --all-peers");
    }
    List<PeerInfo> registered = join(s.metadata().peers().list()).stream()
        .filter(p -> !p.address().isEmpty()).toList();
    if (all) {
      return registered;
    }
    List<PeerInfo> out = new ArrayList<>();
    for (String name : names) {
      out.add(registered.stream()
          .filter(p -> p.address().equals(name) || p.id().uuid().equals(name)).findFirst()
          .orElseGet(() -> unregistered.apply(name)));
    }
    return out;
  }

  /** The failure for a name that matches no registered peer, saying what to do instead. */
  private static TorusException notRegistered(String name, String whatToDo) {
    return new TorusException(ErrorCode.NOT_FOUND,
        "peer " + name + " is not registered; " + whatToDo);
  }

  /** {@code peer add ADDRESS|UUID... | --all-peers}. */
  @Command(name = "add", description = "Add registered storage nodes to the ring.")
  public static final class Add extends CtlCommand implements Callable<Integer> {
    @Parameters(paramLabel = "ADDRESS|UUID", arity = "0..*")
    List<String> peers = List.of();

    @Option(names = "--all-peers", description = "add every registered node")
    boolean all;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        List<RingMember> members = select(s, peers, all, Add::unregistered).stream()
            .map(p -> new RingMember(p.id(), p.capacityBlocks())).toList();
        if (members.isEmpty()) { // only --all-peers selects nothing; the ring would say "already in"
          throw new TorusException(ErrorCode.NOT_FOUND,
              "no peers are registered; start torusd with --peer-address first");
        }
        Ring ring = RingChanges.addPeers(s.metadata().rings(), members);
        out().println("Ring is now version " + ring.version() + " with " + ring.members().size() + " peers");
        return 0;
      }
    }

    /** Only a running node can join: the ring needs its capacity, which its record gives. */
    private static PeerInfo unregistered(String name) {
      throw notRegistered(name, "start torusd there with --peer-address first, and see the"
          + " registered peers with 'torusctl list-peers'");
    }
  }

  /** {@code peer remove ADDRESS|UUID... [--force]}. */
  @Command(name = "remove", aliases = "rm", description = "Remove storage nodes from the ring.")
  public static final class Remove extends CtlCommand implements Callable<Integer> {
    @Parameters(paramLabel = "ADDRESS|UUID", arity = "0..*")
    List<String> peers = List.of();

    @Option(names = "--all-peers", description = "remove every registered node")
    boolean all;

    @Option(names = "--force", description = "take an unregistered argument as a uuid (a dead node)")
    boolean force;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        List<PeerId> ids = select(s, peers, all, this::deadPeer).stream().map(PeerInfo::id).toList();
        Ring ring = RingChanges.removePeers(s.metadata().rings(), ids);
        out().println("Ring is now version " + ring.version() + " with " + ring.members().size() + " peers");
        return 0;
      }
    }

    /** With {@code --force}, an unregistered name is the uuid of a dead peer. */
    private PeerInfo deadPeer(String name) {
      if (!force) {
        throw notRegistered(name, "see the registered peers with 'torusctl list-peers', or remove"
            + " a dead peer from the ring by its uuid with --force");
      }
      return new PeerInfo(new PeerId(name), "", Instant.EPOCH, 0, 0, 0, false);
    }
  }
}
