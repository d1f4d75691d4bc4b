package dev.torus.transport;

import dev.torus.BlockRef;
import dev.torus.storage.BlockStore;
import io.netty.buffer.ByteBuf;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A {@link PeerService} over a store that a test can make misbehave: stop answering, fail every
 * call, or hold back the answer for one block. {@link #close()} finishes what it held, releasing
 * buffers, so that tests stay leak-free.
 */
public final class ScriptedService implements PeerService, AutoCloseable {
  private final PeerService store;
  private final List<CompletableFuture<?>> hung = new CopyOnWriteArrayList<>();
  private final Map<BlockRef, CompletableFuture<Void>> held = new ConcurrentHashMap<>();
  private volatile boolean hang;
  private volatile @Nullable Supplier<RuntimeException> failure;
  private volatile boolean throwAtOnce;
  private final AtomicInteger calls = new AtomicInteger();

  public ScriptedService(BlockStore store) {
    this.store = PeerService.of(store);
  }

  /** While on, calls never answer (as a hung disk); their futures are kept until close. */
  public void hang(boolean on) {
    hang = on;
  }

  /** Every later call fails with a new exception from {@code failure}; null restores service. */
  public void fail(@Nullable Supplier<RuntimeException> failure) {
    this.failure = failure;
  }

  /** Whether {@link #fail} throws from the call itself instead of returning a failed future. */
  public void throwAtOnce(boolean on) {
    throwAtOnce = on;
  }

  /** Calls that reached this service. */
  public int calls() {
    return calls.get();
  }

  /** Holds reads of {@code ref} until the returned future is completed. */
  public CompletableFuture<Void> holdReads(BlockRef ref) {
    return held.computeIfAbsent(ref, r -> new CompletableFuture<>());
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return script(null, () -> held.getOrDefault(ref, CompletableFuture.completedFuture(null))
        .thenCompose(v -> store.getBlock(ref)));
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    return script(data, () -> store.putBlock(ref, data));
  }

  @Override
  public CompletableFuture<BitSet> hasBlocks(List<BlockRef> refs) {
    return script(null, () -> store.hasBlocks(refs));
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    return script(null, () -> store.deleteBlock(ref));
  }

  @Override
  public CompletableFuture<Void> flush() {
    return script(null, store::flush);
  }

  private <T> CompletableFuture<T> script(@Nullable ByteBuf owned,
      Supplier<CompletableFuture<T>> call) {
    calls.incrementAndGet();
    Supplier<RuntimeException> f = failure;
    if (f != null) {
      if (owned != null) {
        owned.release();
      }
      if (throwAtOnce) {
        throw f.get();
      }
      return CompletableFuture.failedFuture(f.get());
    }
    if (hang) {
      CompletableFuture<T> never = new CompletableFuture<>();
      hung.add(never);
      // the hung call still owns its input: release it when the test ends
      if (owned != null) {
        never.whenComplete((v, e) -> owned.release());
      }
      return never;
    }
    return call.get();
  }

  @Override
  public void close() {
    held.values().forEach(gate -> gate.complete(null));
    hung.forEach(never -> never.completeExceptionally(new IllegalStateException("test over")));
  }
}
