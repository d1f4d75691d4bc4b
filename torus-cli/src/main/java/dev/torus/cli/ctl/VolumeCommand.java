package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.cli.CliSession;
import dev.torus.cli.Table;
import dev.torus.metadata.LockInfo;
import dev.torus.metadata.VolumeInfo;
import dev.torus.server.options.SizeConverter;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code torusctl volume ...}: create, list, delete and grow volumes. */
@Command(name = "volume", description = "Manage volumes.",
    subcommands = {VolumeCommand.Create.class, VolumeCommand.ListVolumes.class,
        VolumeCommand.Delete.class, VolumeCommand.Resize.class, CommandLine.HelpCommand.class})
public final class VolumeCommand {
  /** {@code volume create-block NAME SIZE}. */
  @Command(name = "create-block", aliases = "create",
      description = "Create a thin block volume; no space is used until data is written.")
  public static final class Create extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "volume name: letters, digits, '.', '_', '-'")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE", converter = SizeConverter.class,
        description = "size, e.g. 10GiB, 512MiB")
    DataSize size;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        VolumeInfo v = join(s.catalog().create(name, size.bytes()));
        out().println("Created volume " + v.name() + " (" + DataSize.ofBytes(v.size()) + ")");
        return 0;
      }
    }
  }

  /** {@code volume list}. */
  @Command(name = "list", aliases = "ls", description = "List volumes with their size and lock status.")
  public static final class ListVolumes extends CtlCommand implements Callable<Integer> {
    @Option(names = {"-o", "--output"}, defaultValue = "table",
        description = "table, csv or json (default: ${DEFAULT-VALUE})")
    Table.OutputFormat format;

    @Option(names = "--bytes", description = "print sizes in bytes")
    boolean bytes;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        Table t = new Table("NAME", "SIZE", "STATUS", "CREATED", "ORIGIN");
        for (VolumeInfo v : join(s.catalog().list())) {
          Optional<LockInfo> lock = join(s.metadata().volumes().lockStatus(v.id()));
          t.row(v.name(), bytes ? Long.toString(v.size()) : DataSize.ofBytes(v.size()).toHuman(),
              lock.map(l -> "in use by " + l.owner()).orElse("free"),
              DateTimeFormatter.ISO_INSTANT.format(v.created().truncatedTo(ChronoUnit.SECONDS)),
              v.origin().isEmpty() ? "-" : v.origin());
        }
        t.print(out(), format);
        return 0;
      }
    }
  }

  /** {@code volume delete NAME}. */
  @Command(name = "delete", aliases = "rm",
      description = "Delete a volume and its snapshots (refused while it is open for writing).")
  public static final class Delete extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        join(s.catalog().delete(name));
        out().println("Deleted volume " + name);
        return 0;
      }
    }
  }

  /** {@code volume resize NAME SIZE}. */
  @Command(name = "resize", description = "Grow a volume (shrinking is refused).")
  public static final class Resize extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE", converter = SizeConverter.class)
    DataSize size;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        VolumeInfo v = join(s.catalog().resize(name, size.bytes()));
        out().println("Volume " + v.name() + " is now " + DataSize.ofBytes(v.size()));
        return 0;
      }
    }
  }
}
