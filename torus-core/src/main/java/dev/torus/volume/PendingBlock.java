package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One data block changed since the last commit. Mutable; every field is guarded by the owning
 * {@link VolumeHandle}'s monitor.
 *
 * <p>States: {@link #loading} set while its old content is being read for a partial write (every
 * other operation on the block waits for it); {@link #hole} when it reads as zero; otherwise its
 * content is in {@link #data}, or, once written back, in the store under {@link #ref} with {@link
 * #crc}, after {@link #stored} completes.
 */
final class PendingBlock {
  final long index;
  @Nullable BlockRef ref;
  int crc;
  boolean hole;
  @Nullable ByteBuf data;
  /** Bumped by every change to {@link #data}, so a write-back can tell if it is still current. */
  long version;
  /** Completes when the latest put of {@link #ref} finished; puts of one ref are chained on it. */
  CompletableFuture<Void> stored = Futures.done();
  @Nullable CompletableFuture<Void> loading;

  PendingBlock(long index) {
    this.index = index;
  }

  /** Drops the in-memory content, if any. */
  void releaseData() {
    if (data != null) {
      data.release();
      data = null;
    }
  }
}
