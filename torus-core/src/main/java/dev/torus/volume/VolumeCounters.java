package dev.torus.volume;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts, across the volumes of one {@link VolumeService}, the times a store refused their data
 * (what an operator alerts on before clients see errors) and the blocks their writers freed.
 * Thread-safe.
 */
final class VolumeCounters {
  /** Write-back puts that failed. */
  final AtomicLong failedWriteBacks = new AtomicLong();
  /** Writes that waited because the store refused write-backs with memory full. */
  final AtomicLong stalledWrites = new AtomicLong();
  /** Stalled writes that gave up after {@link VolumeConfig#fullStoreWait()}. */
  final AtomicLong failedStalledWrites = new AtomicLong();
  /**
   * Blocks whose acknowledged writes were lost because their old content could not be read to
   * complete them (the next flush of the volume reports it).
   */
  final AtomicLong lostWriteBlocks = new AtomicLong();
  /** Blocks that commits replaced and their writers deleted ({@link SupersededBlocks}). */
  final AtomicLong reclaimedBlocks = new AtomicLong();
}
