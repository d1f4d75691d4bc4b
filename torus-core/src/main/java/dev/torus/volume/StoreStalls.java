package dev.torus.volume;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts, across the volumes of one {@link VolumeService}, the times a store refused their data:
 * what an operator alerts on before clients see errors. Thread-safe.
 */
final class StoreStalls {
  /** Write-back puts that failed. */
  final AtomicLong failedWriteBacks = new AtomicLong();
  /** Writes that waited because the store refused write-backs with memory full. */
  final AtomicLong stalledWrites = new AtomicLong();
  /** Stalled writes that gave up after {@link VolumeConfig#fullStoreWait()}. */
  final AtomicLong failedStalledWrites = new AtomicLong();
}
