package dev.torus.distributor;

import dev.torus.DataSize;
import dev.torus.ReadLevel;
import dev.torus.WriteLevel;
import java.time.Duration;
import java.util.Objects;

/**
 * How the distributor reads and writes.
 *
 * @param readLevel how reads look among replicas
 * @param writeLevel when a write counts as done
 * @param readCache bytes of recently read blocks kept in memory; zero turns the cache off
 * @param readRounds passes over the replicas a {@link ReadLevel#BLOCK} read makes before it fails
 * @param roundBackoff pause after the first failed pass, doubling with each further pass
 */
public record DistributorConfig(ReadLevel readLevel, WriteLevel writeLevel, DataSize readCache,
    int readRounds, Duration roundBackoff) {
  /** Block reads, all-replica writes, 64 MiB read cache, 4 rounds from 100 ms. */
  public static final DistributorConfig DEFAULT = new DistributorConfig(ReadLevel.BLOCK,
      WriteLevel.ALL, DataSize.ofMebibytes(64), 4, Duration.ofMillis(100));

  public DistributorConfig {
    Objects.requireNonNull(readLevel, "readLevel");
    Objects.requireNonNull(writeLevel, "writeLevel");
    Objects.requireNonNull(readCache, "readCache");
    Objects.requireNonNull(roundBackoff, "roundBackoff");
    if (readRounds < 1) {
      throw new IllegalArgumentException("readRounds must be at least 1");
    }
    if (roundBackoff.isNegative()) {
      throw new IllegalArgumentException("roundBackoff must not be negative");
    }
  }

  public DistributorConfig withReadLevel(ReadLevel level) {
    return new DistributorConfig(level, writeLevel, readCache, readRounds, roundBackoff);
  }

  public DistributorConfig withWriteLevel(WriteLevel level) {
    return new DistributorConfig(readLevel, level, readCache, readRounds, roundBackoff);
  }

  public DistributorConfig withReadCache(DataSize size) {
    return new DistributorConfig(readLevel, writeLevel, size, readRounds, roundBackoff);
  }
}
