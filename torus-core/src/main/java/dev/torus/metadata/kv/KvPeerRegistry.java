package dev.torus.metadata.kv;

import dev.torus.PeerId;
import dev.torus.metadata.PeerInfo;
import dev.torus.metadata.PeerRegistry;
import dev.torus.metadata.Subscription;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Peer heartbeat records, each on its node's lease. */
final class KvPeerRegistry implements PeerRegistry {
  private static final Logger log = LoggerFactory.getLogger(KvPeerRegistry.class);

  private final KvStore kv;
  private final MetadataKeys keys;

  KvPeerRegistry(KvStore kv, MetadataKeys keys) {
    this.kv = kv;
    this.keys = keys;
  }

  @Override
  public CompletableFuture<Void> register(PeerInfo peer, long leaseId) {
    return kv.txn(Txn.of(List.of(new KvOp.Put(keys.peer(peer.id()), RecordCodec.peer(peer), leaseId))))
        .thenAccept(r -> {});
  }

  @Override
  public CompletableFuture<Void> deregister(PeerId id) {
    return kv.txn(Txn.of(List.of(new KvOp.Delete(keys.peer(id))))).thenAccept(r -> {});
  }

  @Override
  public CompletableFuture<List<PeerInfo>> list() {
    return kv.range(keys.peersPrefix()).thenApply(r -> decode(r.kvs()));
  }

  @Override
  public Subscription watch(Consumer<List<PeerInfo>> onChange) {
    return kv.watch(keys.peersPrefix(), r -> onChange.accept(decode(r.kvs())));
  }

  /** Decodes every readable record; one bad record must not hide the healthy peers. */
  private static List<PeerInfo> decode(List<KeyValue> kvs) {
    List<PeerInfo> peers = new ArrayList<>(kvs.size());
    for (KeyValue entry : kvs) {
      try {
        peers.add(RecordCodec.peer(entry.key(), entry.value()));
      } catch (RuntimeException e) {
        log.warn("skipping peer record: {}", e.getMessage());
      }
    }
    return peers;
  }
}
