package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.storage.BlockStore;
import dev.torus.storage.ForwardingBlockStore;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in front of another whose puts or gets can be held back (they stay in flight until the
 * gate opens), and that counts puts and gets, to see what a volume writes back and reads, and when.
 */
final class GatedStore extends ForwardingBlockStore {
  private final AtomicInteger puts = new AtomicInteger();
  private final AtomicInteger gets = new AtomicInteger();
  private final AtomicInteger parallelGets = new AtomicInteger();
  private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
  private volatile CompletableFuture<Void> getGate = CompletableFuture.completedFuture(null);

  GatedStore(BlockStore store) {
    super(store);
  }

  /** Holds every later put until the returned future is completed. */
  CompletableFuture<Void> holdPuts() {
    CompletableFuture<Void> g = new CompletableFuture<>();
    gate = g;
    return g;
  }

  /** Holds every later get until the returned future is completed; the get runs then. */
  CompletableFuture<Void> holdGets() {
    CompletableFuture<Void> g = new CompletableFuture<>();
    getGate = g;
    return g;
  }

  /** Puts started so far. */
  int puts() {
    return puts.get();
  }

  /** Checked gets started so far (the volume's reads of data blocks). */
  int gets() {
    return gets.get();
  }

  /** Of those, the gets of one of several blocks read at once. */
  int parallelGets() {
    return parallelGets.get();
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    puts.incrementAndGet();
    return gate.thenCompose(v -> store.putBlock(ref, data));
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
    puts.incrementAndGet();
    return gate.thenCompose(v -> store.putBlock(ref, data, crc));
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    gets.incrementAndGet();
    return getGate.thenCompose(v -> store.getBlock(ref, expectedCrc));
  }

  @Override
  public CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
    parallelGets.incrementAndGet();
    gets.incrementAndGet();
    return getGate.thenCompose(v -> store.getBlockInParallel(ref, expectedCrc));
  }
}
