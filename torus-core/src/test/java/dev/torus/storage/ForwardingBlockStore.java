package dev.torus.storage;

import dev.torus.BlockRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A store that passes every call to another: test stores override only what they change. */
public abstract class ForwardingBlockStore implements BlockStore {
  protected final BlockStore store;

  protected ForwardingBlockStore(BlockStore store) {
    this.store = store;
  }

  @Override
  public int blockSize() {
    return store.blockSize();
  }

  @Override
  public ByteBufAllocator allocator() {
    return store.allocator();
  }

  @Override
  public boolean keepsBlockBuffers() {
    return store.keepsBlockBuffers();
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return store.getBlock(ref);
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    return store.getBlock(ref, expectedCrc);
  }

  @Override
  public CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
    return store.getBlockInParallel(ref, expectedCrc);
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    return store.putBlock(ref, data);
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data, int crc) {
    return store.putBlock(ref, data, crc);
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
    return store.flush();
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
