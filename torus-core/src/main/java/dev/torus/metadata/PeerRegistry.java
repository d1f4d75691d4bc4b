package dev.torus.metadata;

import dev.torus.PeerId;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** Which storage nodes are alive. Records hang on the node's lease and vanish when it expires. */
public interface PeerRegistry {
  /** Writes or refreshes a node's record on a lease. */
  CompletableFuture<Void> register(PeerInfo peer, long leaseId);

  /** Removes a node's record (clean shutdown). */
  CompletableFuture<Void> deregister(PeerId id);

  /** Every registered node. */
  CompletableFuture<List<PeerInfo>> list();

  /** Calls {@code onChange} with the full list now and after every change. */
  Subscription watch(Consumer<List<PeerInfo>> onChange);
}
