package dev.torus.transport;

import dev.torus.storage.BlockStores;
import dev.torus.storage.ForwardingBlockStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory store whose flush can be held back, to see that a peer's flush waits for the
 * store's, and that counts completed flushes.
 */
public final class TestStore extends ForwardingBlockStore {
  private final AtomicInteger flushes = new AtomicInteger();
  private volatile CompletableFuture<Void> flushGate = CompletableFuture.completedFuture(null);

  public TestStore(int blockSize) {
    super(BlockStores.inMemory(blockSize, 100_000));
  }

  /** Holds every later flush until the returned future is completed. */
  public CompletableFuture<Void> holdFlushes() {
    CompletableFuture<Void> gate = new CompletableFuture<>();
    flushGate = gate;
    return gate;
  }

  /** Flushes of the underlying store that have completed. */
  public int flushes() {
    return flushes.get();
  }

  @Override
  public CompletableFuture<Void> flush() {
    return flushGate.thenCompose(v -> store.flush()).thenRun(flushes::incrementAndGet);
  }
}
