package dev.torus.server.options;

import dev.torus.DataSize;
import dev.torus.ReadLevel;
import dev.torus.WriteLevel;
import dev.torus.distributor.DistributorConfig;
import dev.torus.volume.VolumeConfig;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * How a process reads and writes blocks in the cluster: read and write levels, read cache, and how
 * much written data its volumes hold in memory.
 */
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

  @Option(names = "--dirty-limit", converter = SizeConverter.class, scope = ScopeType.INHERIT,
      paramLabel = "SIZE",
      description = "written data the open volumes hold in memory together before they write it"
          + " back ahead of their next commit; more absorbs rewrites, less makes flushes quicker"
          + " (default: a quarter of the JVM's direct memory, 64MiB to 1GiB)")
  private @Nullable DataSize dirtyLimit;

  /** {@code base} with the dirty limit given, if one was. */
  public VolumeConfig volumes(VolumeConfig base) {
    return dirtyLimit == null ? base : base.withDirtyLimit(dirtyLimit);
  }

  /** The distributor settings these flags describe; fails with a clear message on bad levels. */
  public DistributorConfig distributor() {
    return DistributorConfig.DEFAULT.withReadCache(readCache)
        .withReadLevel(ReadLevel.parse(readLevel)).withWriteLevel(WriteLevel.parse(writeLevel));
  }
}
