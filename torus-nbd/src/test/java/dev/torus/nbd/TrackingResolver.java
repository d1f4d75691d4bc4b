package dev.torus.nbd;

import dev.torus.TorusException;
import dev.torus.volume.BlockDevice;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Wraps a resolver to count the devices it opened and the ones the server closed, and to refuse
 * opens on demand.
 */
final class TrackingResolver implements ExportResolver {
  private final ExportResolver delegate;
  final AtomicInteger opened = new AtomicInteger();
  final AtomicInteger closed = new AtomicInteger();
  private volatile @Nullable TorusException openFailure;
  private volatile boolean slow;

  TrackingResolver(ExportResolver delegate) {
    this.delegate = delegate;
  }

  /** Makes every answer arrive later, from another thread, as a metadata lookup would. */
  void slow(boolean slow) {
    this.slow = slow;
  }

  private <T> CompletableFuture<T> later(CompletableFuture<T> answer) {
    if (!slow) {
      return answer;
    }
    return answer.thenApplyAsync(v -> v,
        CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
  }

  /** Makes later opens fail with {@code failure}, or succeed again with null. */
  void failOpens(@Nullable TorusException failure) {
    this.openFailure = failure;
  }

  @Override
  public CompletableFuture<List<ExportInfo>> list() {
    return later(delegate.list());
  }

  @Override
  public CompletableFuture<ExportInfo> describe(String name) {
    return later(delegate.describe(name));
  }

  @Override
  public CompletableFuture<BlockDevice> open(String name, boolean readOnly) {
    TorusException failure = openFailure;
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    return later(delegate.open(name, readOnly).thenApply(d -> {
      opened.incrementAndGet();
      return (BlockDevice) new DeviceView(d, () -> { // counts close() and passes it on
        closed.incrementAndGet();
        d.close();
      });
    }));
  }
}
