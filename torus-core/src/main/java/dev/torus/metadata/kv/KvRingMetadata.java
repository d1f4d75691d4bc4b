package dev.torus.metadata.kv;

import dev.torus.CompareFailedException;
import dev.torus.metadata.RingMetadata;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.Versioned;
import dev.torus.ring.Ring;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The ring record: read, compare-and-swap with a version check, and watch. */
final class KvRingMetadata implements RingMetadata {
  private static final Logger log = LoggerFactory.getLogger(KvRingMetadata.class);

  private final KvStore kv;
  private final MetadataKeys keys;

  KvRingMetadata(KvStore kv, MetadataKeys keys) {
    this.kv = kv;
    this.keys = keys;
  }

  @Override
  public CompletableFuture<Versioned<Ring>> current() {
    return kv.get(keys.ring()).thenApply(v -> v
        .map(r -> new Versioned<>(RecordCodec.ring(r.key(), r.value()), r.modRevision()))
        .orElseThrow(() -> KvMetadataService.notInitialized(kv, keys)));
  }

  @Override
  public CompletableFuture<Versioned<Ring>> compareAndSet(Ring next, long expectedRevision) {
    return current().thenCompose(cur -> {
      if (cur.revision() != expectedRevision) {
        throw new CompareFailedException(keys.ring(), expectedRevision, cur.revision(),
            "the ring changed");
      }
      if (next.version() != cur.value().version() + 1) {
        throw new CompareFailedException(keys.ring(), expectedRevision, cur.revision(),
            "ring version must go from " + cur.value().version() + " to "
                + (cur.value().version() + 1) + ", not " + next.version());
      }
      Txn txn = new Txn(List.of(Compare.modRevision(keys.ring(), expectedRevision)),
          List.of(new KvOp.Put(keys.ring(), RecordCodec.ring(next), 0)),
          List.of(new KvOp.Get(keys.ring())));
      return kv.txn(txn).thenApply(r -> {
        if (!r.succeeded()) {
          List<KeyValue> now = r.reads().get(0);
          throw new CompareFailedException(keys.ring(), expectedRevision,
              now.isEmpty() ? 0 : now.get(0).modRevision(), "the ring changed");
        }
        return new Versioned<>(next, r.revision());
      });
    });
  }

  @Override
  public Subscription watch(Consumer<Versioned<Ring>> onUpdate) {
    long[] delivered = {0};
    return kv.watch(keys.ringPrefix(), range -> range.find(keys.ring()).ifPresent(entry -> {
      if (entry.modRevision() <= delivered[0]) {
        return;
      }
      try {
        Ring ring = RecordCodec.ring(entry.key(), entry.value());
        delivered[0] = entry.modRevision();
        onUpdate.accept(new Versioned<>(ring, entry.modRevision()));
      } catch (RuntimeException e) {
        log.error("ignoring an unreadable ring at revision {}: {}", entry.modRevision(), e.getMessage());
      }
    }));
  }
}
