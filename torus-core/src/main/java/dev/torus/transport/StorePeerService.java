package dev.torus.transport;

import dev.torus.BlockRef;
import dev.torus.internal.concurrent.Futures;
import dev.torus.storage.BlockStore;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** {@link PeerService} over a local {@link BlockStore}: the peer side of a storage node. */
final class StorePeerService implements PeerService {
  private final BlockStore store;

  StorePeerService(BlockStore store) {
    this.store = Objects.requireNonNull(store, "store");
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
  public CompletableFuture<BitSet> hasBlocks(List<BlockRef> refs) {
    List<CompletableFuture<Boolean>> answers = new ArrayList<>(refs.size());
    for (BlockRef ref : refs) {
      answers.add(store.hasBlock(ref));
    }
    return Futures.allOf(answers).thenApply(done -> {
      BitSet held = new BitSet(refs.size());
      for (int i = 0; i < answers.size(); i++) {
        if (answers.get(i).join()) {
          held.set(i);
        }
      }
      return held;
    });
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    return store.deleteBlock(ref);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return store.flush();
  }
}
