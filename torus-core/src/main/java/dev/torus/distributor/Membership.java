package dev.torus.distributor;

import dev.torus.PeerId;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerInfo;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.Versioned;
import dev.torus.ring.Ring;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's view of the cluster: the current ring and the registered peers, kept up to date
 * by watches. Thread-safe; reads are lock-free.
 *
 * <p>A ring is replaced only by a newer revision, so a delayed watch event can never roll the
 * placement back (the Go original panicked on an older ring instead).
 */
public final class Membership implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final AtomicReference<Versioned<Ring>> ring;
  private volatile Map<PeerId, PeerInfo> peers;
  private final List<Consumer<Ring>> ringListeners = new CopyOnWriteArrayList<>();
  private final Subscription ringWatch;
  private final Subscription peerWatch;

  private Membership(MetadataService metadata, Versioned<Ring> ring, List<PeerInfo> peers) {
    this.ring = new AtomicReference<>(ring);
    this.peers = index(peers);
    this.ringWatch = metadata.rings().watch(this::offer);
    this.peerWatch = metadata.peers().watch(list -> this.peers = index(list));
  }

  /** Reads the ring and the peers, then follows their changes. */
  public static CompletableFuture<Membership> start(MetadataService metadata) {
    CompletableFuture<Versioned<Ring>> ring = metadata.rings().current();
    CompletableFuture<List<PeerInfo>> peers = metadata.peers().list();
    return Futures.allOf(List.of(ring, peers))
        .thenApply(v -> new Membership(metadata, ring.join(), peers.join()));
  }

  private static Map<PeerId, PeerInfo> index(List<PeerInfo> list) {
    Map<PeerId, PeerInfo> map = new HashMap<>();
    list.forEach(p -> map.put(p.id(), p));
    return Map.copyOf(map);
  }

  private void offer(Versioned<Ring> next) {
    Versioned<Ring> prev = ring.getAndUpdate(cur -> next.revision() > cur.revision() ? next : cur);
    if (next.revision() > prev.revision()) {
      log.info("ring changed to {} version {}", next.value().type().cliName(), next.value().version());
      ringListeners.forEach(l -> l.accept(next.value()));
    }
  }

  /** The current ring. */
  public Ring ring() {
    return ring.get().value();
  }

  /** Calls {@code listener} with every newer ring from now on. */
  public void onRingChange(Consumer<Ring> listener) {
    ringListeners.add(listener);
  }

  /** A registered peer, if its heartbeat record exists. */
  public Optional<PeerInfo> peer(PeerId id) {
    return Optional.ofNullable(peers.get(id));
  }

  /** Every registered peer. */
  public List<PeerInfo> peers() {
    return List.copyOf(peers.values());
  }

  @Override
  public void close() {
    ringWatch.close();
    peerWatch.close();
  }
}
