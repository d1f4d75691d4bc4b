package dev.torus.volume;

import dev.torus.DataSize;
import dev.torus.metadata.LeaseKeeper;
import io.netty.util.internal.PlatformDependent;
import java.time.Duration;
import java.util.Objects;

/**
 * How open volumes behave.
 *
 * @param dirtyLimit written data that the volumes open through one {@link VolumeService} hold in
 *     memory together; beyond it a volume being written writes its oldest blocks back to the store
 *     ahead of its next commit, and beyond twice it writes wait for those write-backs. A commit
 *     (and so a flush) stores at most what the volume holds, so a larger limit absorbs more
 *     rewrites of the same blocks but can make a flush take longer
 * @param mapCache map pages kept in memory per volume
 * @param commitInterval how often an open volume commits on its own if it has uncommitted writes:
 *     the most a client that never flushes can lose; {@link Duration#ZERO} turns it off
 * @param leaseTtl how long the write lock outlives a writer that stopped renewing it; at least
 *     {@link LeaseKeeper#MIN_TTL}
 * @param owner who opens volumes, recorded in the lock (e.g. {@code torusblk@host:1234})
 * @param fullStoreWait how long a flush, or a write that finds twice the dirty limit in memory,
 *     waits for a store that refuses blocks (a full one, until garbage collection frees room)
 *     before it fails with the store's error; {@link Duration#ZERO} fails at once
 * @param reclaimDelay how long after a commit its writer deletes the blocks it replaced (those no
 *     snapshot or clone may hold; the garbage collector frees the rest): lets reads that started
 *     on the older root finish first
 */
public record VolumeConfig(DataSize dirtyLimit, DataSize mapCache, Duration commitInterval,
    Duration leaseTtl, String owner, Duration fullStoreWait, Duration reclaimDelay) {
  /**
   * The {@linkplain #defaultDirtyLimit default dirty limit} for this JVM, 64 MiB map cache, 5 s
   * background commit, 10 s lease, 10 s wait for a full store, replaced blocks deleted 100 ms after
   * their commit.
   */
  public static final VolumeConfig DEFAULT = new VolumeConfig(
      defaultDirtyLimit(PlatformDependent.maxDirectMemory()),
      DataSize.ofMebibytes(64), Duration.ofSeconds(5), Duration.ofSeconds(10), ownerFor("torus"),
      Duration.ofSeconds(10), Duration.ofMillis(100));

  public VolumeConfig {
    Objects.requireNonNull(dirtyLimit, "dirtyLimit");
    Objects.requireNonNull(mapCache, "mapCache");
    Objects.requireNonNull(commitInterval, "commitInterval");
    Objects.requireNonNull(leaseTtl, "leaseTtl");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(fullStoreWait, "fullStoreWait");
    Objects.requireNonNull(reclaimDelay, "reclaimDelay");
    if (commitInterval.isNegative()) {
      throw new IllegalArgumentException("commitInterval < 0");
    }
    if (fullStoreWait.isNegative()) {
      throw new IllegalArgumentException("fullStoreWait < 0");
    }
    if (reclaimDelay.isNegative()) {
      throw new IllegalArgumentException("reclaimDelay < 0");
    }
    if (leaseTtl.compareTo(LeaseKeeper.MIN_TTL) < 0) {
      throw new IllegalArgumentException("leaseTtl must be at least 2s (etcd's minimum lease TTL),"
          + " got " + leaseTtl.toMillis() + "ms");
    }
  }

  public VolumeConfig withOwner(String owner) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  public VolumeConfig withCommitInterval(Duration commitInterval) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  public VolumeConfig withLeaseTtl(Duration leaseTtl) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  public VolumeConfig withDirtyLimit(DataSize dirtyLimit) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  public VolumeConfig withFullStoreWait(Duration fullStoreWait) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  public VolumeConfig withReclaimDelay(Duration reclaimDelay) {
    return new VolumeConfig(dirtyLimit, mapCache, commitInterval, leaseTtl, owner, fullStoreWait,
        reclaimDelay);
  }

  /**
   * A quarter of {@code maxDirectMemory}, the direct memory the JVM may allocate
   * ({@code -XX:MaxDirectMemorySize}, by default its largest heap), but at least 64 MiB and at
   * most 1 GiB. Written blocks live in direct memory; half of it stays for the blocks a writer may
   * hold beyond the limit, those being read, and the network. Up to 1 GiB, a volume rewritten in
   * place by a benchmark or a database keeps its working set in memory between commits instead
   * of storing every rewrite (docs/benchmarks.md, run BE).
   */
  public static DataSize defaultDirtyLimit(long maxDirectMemory) {
    return DataSize.ofBytes(Math.max(64L << 20, Math.min(1L << 30, maxDirectMemory / 4)));
  }

  /** {@code <program>@<host>:<pid>}: names this process in lock records. */
  public static String ownerFor(String program) {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "localhost";
    }
    return program + "@" + host + ":" + ProcessHandle.current().pid();
  }
}
