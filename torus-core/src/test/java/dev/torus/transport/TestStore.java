package dev.torus.transport;

import dev.torus.BlockRef;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.StoreStats;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory store whose flush can be held back, to see that a peer's flush waits for the
 * store's, and that counts completed flushes.
 */
public final class TestStore implements BlockStore {
  private final BlockStore store;
  private final AtomicInteger flushes = new AtomicInteger();
  private volatile CompletableFuture<Void> flushGate = CompletableFuture.completedFuture(null);

  public TestStore(int blockSize) {
    this.store = BlockStores.inMemory(blockSize, 100_000);
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
  public int blockSize() {
    return store.blockSize();
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return store.getBlock(ref);
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    return store.putBlock(ref, data);
  }

  @Override
  public CompletableFuture<Boolean> hasBlock(BlockRef ref) {
    return store.hasBlock(ref);
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    return store.deleteBlock(ref);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return flushGate.thenCompose(v -> store.flush()).thenRun(flushes::incrementAndGet);
  }

  @Override
  public CompletableFuture<List<BlockRef>> listBlocks() {
    return store.listBlocks();
  }

  @Override
  public StoreStats stats() {
    return store.stats();
  }

  @Override
  public void close() {
    store.close();
  }
}
