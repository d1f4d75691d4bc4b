package dev.torus.cli.ctl;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.TorusExceptions;
import dev.torus.cli.CliSession;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.ring.RingType;
import dev.torus.ring.Rings;
import dev.torus.server.options.SizeConverter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code torusctl init}: formats the cluster's metadata. */
@Command(name = "init", description = "Initialise the cluster metadata (block size, block spec, first ring).")
public final class InitCommand extends CtlCommand implements Callable<Integer> {
  @Option(names = "--block-size", converter = SizeConverter.class,
      defaultValue = GlobalMetadata.DEFAULT_BLOCK_SIZE,
      description = "size of every block and map page, a power of two from 4KiB to 16MiB (default: ${DEFAULT-VALUE})")
  DataSize blockSize;

  @Option(names = "--block-spec", defaultValue = GlobalMetadata.CRC32C,
      description = "how blocks are checked; only crc32c (default)")
  String blockSpec;

  @Option(names = "--ring", defaultValue = "mod",
      description = "first ring type: mod (default) or empty; torusd --auto-join adds nodes to a mod ring")
  String ring;

  @Option(names = {"-r", "--replication"}, defaultValue = "2",
      description = "copies of each block the ring asks for (default: ${DEFAULT-VALUE})")
  int replication;

  @Option(names = "--view", description = "print the current settings instead of initialising")
  boolean view;

  @Override
  public Integer call() {
    try (CliSession s = open()) {
      if (view) {
        GlobalMetadata g = join(s.metadata().global());
        out().println("Block size: " + g.blockSize() + " bytes (" + DataSize.ofBytes(g.blockSize()) + ")");
        out().println("Block spec: " + g.blockSpec());
        out().println("Metadata: " + s.metadata().location());
        return 0;
      }
      if (!GlobalMetadata.CRC32C.equals(blockSpec)) {
        throw TorusExceptions.invalid("unknown block spec '" + blockSpec + "': the only spec is crc32c");
      }
      long size = blockSize.bytes();
      if (Long.bitCount(size) != 1 || size < 4096 || size > (16 << 20)) {
        throw TorusExceptions.invalid("block size must be a power of two from 4KiB to 16MiB, got " + blockSize);
      }
      if (replication < 1) {
        throw TorusExceptions.invalid("replication must be at least 1, got " + replication);
      }
      var first = switch (RingType.parse(ring)) {
        case EMPTY -> Rings.empty(1);
        case MOD -> Rings.mod(1, replication, List.of());
        default -> throw TorusExceptions.invalid(
            "init can start with a mod or empty ring; change it later with 'torusctl ring'");
      };
      join(s.metadata().initialize(new GlobalMetadata((int) size, blockSpec), first));
      out().println("Initialised " + s.metadata().location() + ": block size " + blockSize + ", "
          + first.type().cliName() + " ring");
      return 0;
    }
  }
}
