package dev.torus.server.options;

import dev.torus.DataSize;
import dev.torus.ReadLevel;
import dev.torus.WriteLevel;
import dev.torus.distributor.DistributorConfig;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** How a process reads and writes blocks in the cluster: read and write levels, read cache. */
public final class DataPathOptions {
  @Option(names = "--read-cache-size", defaultValue = "64MiB", converter = SizeConverter.class,
      scope = ScopeType.INHERIT, paramLabel = "SIZE",
      description = "memory for recently read blocks (default: ${DEFAULT-VALUE}; 0 turns it off)")
  private DataSize readCache;

  @Option(names = "--read-level", defaultValue = "block", scope = ScopeType.INHERIT,
      paramLabel = "LEVEL", description = "how reads pick replicas: block, seq or spread (default: ${DEFAULT-VALUE})")
  private String readLevel;

  @Option(names = "--write-level", defaultValue = "all", scope = ScopeType.INHERIT,
      paramLabel = "LEVEL",
      description = "when a write is done: all replicas, one, or local (torusd only) (default: ${DEFAULT-VALUE})")
  private String writeLevel;

  /** The distributor settings these flags describe; fails with a clear message on bad levels. */
  public DistributorConfig distributor() {
    return DistributorConfig.DEFAULT.withReadCache(readCache)
        .withReadLevel(ReadLevel.parse(readLevel)).withWriteLevel(WriteLevel.parse(writeLevel));
  }
}
