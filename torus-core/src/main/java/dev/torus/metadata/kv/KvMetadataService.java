package dev.torus.metadata.kv;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.metadata.ClusterView;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseService;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerRegistry;
import dev.torus.metadata.RingMetadata;
import dev.torus.metadata.VolumeMetadata;
import dev.torus.ring.Ring;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link MetadataService} over any {@link KvStore}: the key schema ({@link MetadataKeys}),
 * the record encoding ({@link RecordCodec}) and every transaction live here once, so the embedded
 * store and etcd behave identically.
 */
final class KvMetadataService implements MetadataService {
  private final KvStore kv;
  private final MetadataKeys keys;
  private final KvVolumeMetadata volumes;
  private final KvRingMetadata rings;
  private final KvPeerRegistry peers;
  private final LeaseService leases;

  KvMetadataService(KvStore kv, MetadataKeys keys, Clock clock) {
    this.kv = kv;
    this.keys = keys;
    this.volumes = new KvVolumeMetadata(kv, keys, clock);
    this.rings = new KvRingMetadata(kv, keys);
    this.peers = new KvPeerRegistry(kv, keys);
    this.leases = new LeaseService() {
      @Override
      public CompletableFuture<Long> grant(Duration ttl) {
        return kv.grantLease(ttl);
      }

      @Override
      public CompletableFuture<Duration> keepAlive(long leaseId) {
        return kv.keepAlive(leaseId);
      }

      @Override
      public CompletableFuture<Void> revoke(long leaseId) {
        return kv.revokeLease(leaseId);
      }
    };
  }

  @Override
  public String location() {
    return kv.location();
  }

  @Override
  public CompletableFuture<Void> initialize(GlobalMetadata global, Ring ring) {
    Txn txn = new Txn(
        List.of(Compare.absent(keys.global())),
        List.of(new KvOp.Put(keys.global(), RecordCodec.global(global), 0),
            new KvOp.Put(keys.volumeCounter(), RecordCodec.counter(0), 0),
            new KvOp.Put(keys.ring(), RecordCodec.ring(ring), 0)),
        List.of());
    return kv.txn(txn).thenAccept(r -> {
      if (!r.succeeded()) {
        throw new TorusException(ErrorCode.ALREADY_EXISTS,
            "the cluster at " + kv.location() + " is already initialised; use 'torusctl wipe' first"
                + " to start over (this deletes all metadata)");
      }
    });
  }

  @Override
  public CompletableFuture<GlobalMetadata> global() {
    return kv.get(keys.global()).thenApply(kv1 -> kv1
        .map(v -> RecordCodec.global(v.key(), v.value()))
        .orElseThrow(this::notInitialized));
  }

  TorusException notInitialized() {
    return notInitialized(kv, keys);
  }

  static TorusException notInitialized(KvStore kv, MetadataKeys keys) {
    return new TorusException(ErrorCode.NOT_INITIALIZED,
        "no Torus cluster at " + kv.location() + " (no " + keys.global()
            + "): run 'torusctl init' first");
  }

  @Override
  public CompletableFuture<Void> wipe() {
    return kv.txn(Txn.of(List.of(new KvOp.DeletePrefix(keys.all())))).thenAccept(r -> {});
  }

  @Override
  public VolumeMetadata volumes() {
    return volumes;
  }

  @Override
  public RingMetadata rings() {
    return rings;
  }

  @Override
  public PeerRegistry peers() {
    return peers;
  }

  @Override
  public LeaseService leases() {
    return leases;
  }

  @Override
  public CompletableFuture<ClusterView> view() {
    return volumes.view();
  }

  @Override
  public void close() {
    kv.close();
  }
}
