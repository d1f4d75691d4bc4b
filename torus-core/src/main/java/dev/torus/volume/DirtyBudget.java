package dev.torus.volume;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The written data that the open volumes of one {@link VolumeService} hold in memory together,
 * against {@link VolumeConfig#dirtyLimit()}: a volume being written writes its own oldest blocks
 * back when the sum is over the limit, as a page cache does with one limit for every file.
 * Thread-safe.
 */
final class DirtyBudget {
  private final long limit;
  private final AtomicLong bytes = new AtomicLong();
  /** Bytes of dirty blocks whose write-back put is running. */
  private final AtomicLong writingBack = new AtomicLong();

  DirtyBudget(long limit) {
    this.limit = limit;
  }

  void add(long delta) {
    bytes.addAndGet(delta);
  }

  void addWritingBack(long delta) {
    writingBack.addAndGet(delta);
  }

  /** Written data in memory now, in bytes. */
  long bytes() {
    return bytes.get();
  }

  boolean overLimit() {
    return bytes.get() > limit;
  }

  /** Over twice the limit, where writers wait for write-backs. */
  boolean farOverLimit() {
    return bytes.get() > 2 * limit;
  }

  /** Whether more than half the limit is held by blocks that no write-back is storing yet. */
  boolean wantsWriteBack() {
    return bytes.get() - writingBack.get() > limit / 2;
  }
}
