package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.TorusExceptions;
import dev.torus.cli.CliSession;
import dev.torus.cli.SnapshotName;
import dev.torus.cli.Table;
import dev.torus.client.TorusClient;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeInfo;
import dev.torus.server.options.SizeConverter;
import dev.torus.volume.BlockVolume;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code torusctl block ...}: snapshots and clones of block volumes. */
@Command(name = "block", description = "Block volume snapshots, clones, dumps and loads.",
    subcommands = {VolumeCommand.Create.class, BlockCommand.Snapshot.class, BlockCommand.Clone.class,
        BlockCommand.Dump.class, BlockCommand.Load.class, CommandLine.HelpCommand.class})
public final class BlockCommand {
  /** {@code block snapshot create|list|delete|restore}. */
  @Command(name = "snapshot", description = "Create, list, delete and restore snapshots.",
      subcommands = {SnapshotCreate.class, SnapshotList.class, SnapshotDelete.class,
          SnapshotRestore.class, CommandLine.HelpCommand.class})
  public static final class Snapshot {}

  /** {@code block snapshot create VOLUME@SNAPSHOT}. */
  @Command(name = "create", description = "Snapshot a volume's last committed state.")
  public static final class SnapshotCreate extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT", converter = SnapshotName.Converter.class)
    SnapshotName target;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        join(s.catalog().createSnapshot(target.volume(), target.snapshot()));
        out().println("Created snapshot " + target);
        return 0;
      }
    }
  }

  /** {@code block snapshot list VOLUME}. */
  @Command(name = "list", aliases = "ls", description = "List a volume's snapshots, oldest first.")
  public static final class SnapshotList extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME")
    String volume;

    @Option(names = {"-o", "--output"}, defaultValue = "table",
        description = "table, csv or json (default: ${DEFAULT-VALUE})")
    Table.OutputFormat format;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        Table t = new Table("SNAPSHOT", "CREATED", "SIZE");
        for (SnapshotInfo snap : join(s.catalog().listSnapshots(volume))) {
          t.row(snap.name(), DateTimeFormatter.ISO_INSTANT.format(snap.created().truncatedTo(ChronoUnit.SECONDS)),
              DataSize.ofBytes(snap.root().size()).toHuman());
        }
        t.print(out(), format);
        return 0;
      }
    }
  }

  /** {@code block snapshot delete VOLUME@SNAPSHOT}. */
  @Command(name = "delete", aliases = "rm", description = "Delete a snapshot.")
  public static final class SnapshotDelete extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT", converter = SnapshotName.Converter.class)
    SnapshotName target;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        join(s.catalog().deleteSnapshot(target.volume(), target.snapshot()));
        out().println("Deleted snapshot " + target);
        return 0;
      }
    }
  }

  /** {@code block snapshot restore VOLUME@SNAPSHOT}. */
  @Command(name = "restore",
      description = "Roll a volume back to a snapshot (the volume must not be open for writing).")
  public static final class SnapshotRestore extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT", converter = SnapshotName.Converter.class)
    SnapshotName target;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        join(s.catalog().restoreSnapshot(target.volume(), target.snapshot()));
        out().println("Restored " + target.volume() + " to snapshot " + target.snapshot());
        return 0;
      }
    }
  }

  /** {@code block clone VOLUME@SNAPSHOT NEWVOLUME}. */
  @Command(name = "clone", description = "Create a new volume from a snapshot without copying data.")
  public static final class Clone extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME@SNAPSHOT", converter = SnapshotName.Converter.class)
    SnapshotName source;

    @Parameters(index = "1", paramLabel = "NEWVOLUME")
    String name;

    @Override
    public Integer call() {
      try (CliSession s = open()) {
        VolumeInfo v = join(s.catalog().cloneSnapshot(source.volume(), source.snapshot(), name));
        out().println("Cloned " + source + " to volume " + v.name() + " (" + DataSize.ofBytes(v.size()) + ")");
        return 0;
      }
    }
  }

  /** {@code block dump VOLUME FILE|-}. */
  @Command(name = "dump", description = "Copy a volume's committed contents to a file (or - for stdout).")
  public static final class Dump extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VOLUME")
    String volume;

    @Parameters(index = "1", paramLabel = "FILE|-")
    String output;

    @Option(names = {"-p", "--progress"}, description = "print progress to stderr")
    boolean progress;

    @Override
    public Integer call() throws IOException {
      try (CliSession s = open()) {
        TorusClient cluster = s.cluster();
        // A snapshot pins the blocks for as long as the copy takes, even past garbage collection.
        String snap = "dump-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
        join(s.catalog().createSnapshot(volume, snap));
        try (BlockVolume v = join(cluster.volumes().openSnapshot(volume, snap));
            OutputStream out = "-".equals(output)
                ? new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 20)
                : new BufferedOutputStream(Files.newOutputStream(Path.of(output)), 1 << 20)) {
          long n = new DataCopy(err(), progress, v.size()).dump(v, out);
          err().println("copied " + n + " bytes");
        } finally {
          join(s.catalog().deleteSnapshot(volume, snap));
        }
        return 0;
      }
    }
  }

  /** {@code block load FILE VOLUME [SIZE]}. */
  @Command(name = "load", description = "Create a volume from a file's contents (or - for stdin).")
  public static final class Load extends CtlCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE|-")
    String input;

    @Parameters(index = "1", paramLabel = "VOLUME")
    String volume;

    @Parameters(index = "2", paramLabel = "SIZE", arity = "0..1", converter = SizeConverter.class,
        description = "volume size if larger than the file (required when reading stdin)")
    DataSize size;

    @Option(names = {"-p", "--progress"}, description = "print progress to stderr")
    boolean progress;

    @Override
    public Integer call() throws IOException {
      boolean stdin = "-".equals(input);
      if (stdin && size == null) {
        throw TorusExceptions.invalid("loading from stdin needs a SIZE");
      }
      long fileSize = stdin ? 0 : Files.size(Path.of(input));
      if (size != null && size.bytes() < fileSize) {
        throw TorusExceptions.invalid("size " + size + " is smaller than the input file ("
            + fileSize + " bytes)");
      }
      long volumeSize = size == null ? fileSize : size.bytes();
      try (CliSession s = open()) {
        TorusClient cluster = s.cluster();
        join(s.catalog().create(volume, volumeSize));
        try (BlockVolume v = join(cluster.volumes().openWritable(volume));
            InputStream in = stdin ? System.in : Files.newInputStream(Path.of(input))) {
          long n = new DataCopy(err(), progress, stdin ? volumeSize : fileSize).load(in, v);
          join(v.flush());
          out().println("copied " + n + " bytes");
        }
        return 0;
      }
    }
  }
}
