package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.TorusException;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeMetadata;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a writable open holds: the write lock, the lease keeper that fences it, and the block
 * counter of its write session. Thread-safe.
 */
final class VolumeWriter {
  private static final Logger log = LoggerFactory.getLogger(VolumeWriter.class);

  private final VolumeLock lock;
  private final LeaseKeeper keeper;
  private final AtomicLong counter = new AtomicLong();

  VolumeWriter(VolumeLock lock, LeaseKeeper keeper) {
    this.lock = lock;
    this.keeper = keeper;
  }

  VolumeLock lock() {
    return lock;
  }

  LeaseKeeper keeper() {
    return keeper;
  }

  /** A new ref in this session; refs are never handed out twice. */
  BlockRef allocate(BlockType type) {
    return BlockRef.of(lock.sessionRef(), counter.incrementAndGet(), type);
  }

  /** The last index handed out. */
  long highWater() {
    return counter.get();
  }

  /** The next index, for the map's page allocation. */
  long nextIndex() {
    return counter.incrementAndGet();
  }

  /** Releases the lock and the lease; failures are logged, the lease expires on its own. */
  void close(VolumeMetadata metadata) {
    try {
      Futures.join(metadata.unlock(lock), Duration.ofSeconds(10));
    } catch (TorusException e) {
      log.warn("releasing the lock on volume {} failed (it expires with its lease): {}",
          lock.volume(), e.getMessage());
    }
    keeper.close();
  }
}
