package dev.torus.metadata.kv;

import dev.torus.CompareFailedException;
import dev.torus.ErrorCode;
import dev.torus.Names;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.metadata.ClusterView;
import dev.torus.metadata.LockInfo;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeMetadata;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.VolumeState;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Volume records and their transactions.
 *
 * <p>Atomicity: every change is one {@link Txn} whose compares pin what the change was computed
 * from (the name index, the counter, the lock, the root), so a concurrent change makes it fail
 * rather than interleave. Only the internal allocation of ids and session numbers is retried on
 * contention; a caller's compare-and-swap ({@link #commit}) never is.
 */
final class KvVolumeMetadata implements VolumeMetadata {
  private static final int MAX_ATTEMPTS = 32;

  private final KvStore kv;
  private final MetadataKeys keys;
  private final Clock clock;

  KvVolumeMetadata(KvStore kv, MetadataKeys keys, Clock clock) {
    this.kv = kv;
    this.keys = keys;
    this.clock = clock;
  }

  /** Record timestamps at millisecond precision: what the records store. */
  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  @Override
  public CompletableFuture<VolumeInfo> create(String name, VolumeRoot root) {
    Names.checkVolumeName(name);
    return newVolume(name, root, "");
  }

  /** Allocates the next volume id and writes every key of a new volume in one transaction. */
  private CompletableFuture<VolumeInfo> newVolume(String name, VolumeRoot root, String origin) {
    return retry(() -> kv.get(keys.volumeCounter()).thenCompose(counter -> {
      KeyValue c = counter.orElseThrow(() -> KvMetadataService.notInitialized(kv, keys));
      VolumeId id = new VolumeId(RecordCodec.counter(c.key(), c.value()) + 1);
      RecordCodec.VolumeRecord record = new RecordCodec.VolumeRecord(id, name, now(), origin);
      Txn txn = new Txn(
          List.of(Compare.modRevision(keys.volumeCounter(), c.modRevision()),
              Compare.absent(keys.name(name))),
          List.of(new KvOp.Put(keys.volumeCounter(), RecordCodec.counter(id.value()), 0),
              new KvOp.Put(keys.name(name), RecordCodec.counter(id.value()), 0),
              new KvOp.Put(keys.info(id), RecordCodec.volume(record), 0),
              new KvOp.Put(keys.root(id), RecordCodec.root(root), 0),
              new KvOp.Put(keys.sessions(id), RecordCodec.counter(0), 0)),
          List.of(new KvOp.Get(keys.name(name))));
      return kv.txn(txn).thenApply(r -> {
        if (r.succeeded()) {
          return Optional.of(new VolumeInfo(id, name, root.size(), record.created(), origin));
        }
        if (!r.reads().get(0).isEmpty()) {
          throw TorusExceptions.alreadyExists("volume '" + name + "'");
        }
        return Optional.<VolumeInfo>empty(); // the counter moved: another volume was created
      });
    }), "creating volume " + name);
  }

  @Override
  public CompletableFuture<VolumeInfo> get(String name) {
    return id(name).thenCompose(id -> {
      Txn txn = Txn.of(List.of(new KvOp.Get(keys.info(id)), new KvOp.Get(keys.root(id))));
      return kv.txn(txn).thenApply(r -> {
        if (r.reads().get(0).isEmpty() || r.reads().get(1).isEmpty()) {
          throw TorusExceptions.notFound("volume '" + name + "'");
        }
        return info(r.reads().get(0).get(0), r.reads().get(1).get(0));
      });
    });
  }

  private CompletableFuture<VolumeId> id(String name) {
    Names.checkVolumeName(name);
    return kv.get(keys.name(name)).thenApply(v -> v
        .map(kv1 -> RecordCodec.volumeId(kv1.key(), kv1.value()))
        .orElseThrow(() -> TorusExceptions.notFound("volume '" + name + "'")));
  }

  private VolumeInfo info(KeyValue info, KeyValue root) {
    RecordCodec.VolumeRecord v = RecordCodec.volume(info.key(), info.value());
    VolumeRoot r = RecordCodec.root(root.key(), root.value());
    return new VolumeInfo(v.id(), v.name(), r.size(), v.created(), v.origin());
  }

  @Override
  public CompletableFuture<List<VolumeInfo>> list() {
    return kv.range(keys.volumesPrefix()).thenApply(r -> {
      List<VolumeInfo> out = new ArrayList<>();
      for (VolumeKeys v : group(r.kvs()).values()) {
        if (v.info != null && v.root != null) {
          out.add(info(v.info, v.root));
        }
      }
      out.sort(Comparator.comparing(VolumeInfo::name));
      return out;
    });
  }

  @Override
  public CompletableFuture<Void> delete(String name) {
    return kv.get(keys.name(Names.checkVolumeName(name))).thenCompose(entry -> {
      KeyValue n = entry.orElseThrow(() -> TorusExceptions.notFound("volume '" + name + "'"));
      VolumeId id = RecordCodec.volumeId(n.key(), n.value());
      Txn txn = new Txn(
          List.of(Compare.modRevision(keys.name(name), n.modRevision()), Compare.absent(keys.lock(id))),
          List.of(new KvOp.Delete(keys.name(name)), new KvOp.DeletePrefix(keys.volume(id))),
          List.of(new KvOp.Get(keys.lock(id))));
      return kv.txn(txn).thenAccept(r -> {
        if (!r.succeeded()) {
          List<KeyValue> lock = r.reads().get(0);
          if (!lock.isEmpty()) {
            throw lockedBy(name, lock.get(0), "delete it");
          }
          throw TorusExceptions.notFound("volume '" + name + "'");
        }
      });
    });
  }

  private TorusException lockedBy(String volume, KeyValue lock, String action) {
    LockInfo holder = RecordCodec.lock(lock.key(), lock.value()).info();
    return TorusExceptions.locked("volume '" + volume + "' is open for writing by " + holder.owner()
        + " since " + holder.acquired() + "; close it there before you " + action);
  }

  @Override
  public CompletableFuture<Versioned<VolumeRoot>> root(VolumeId id) {
    return kv.get(keys.root(id)).thenApply(v -> v
        .map(r -> new Versioned<>(RecordCodec.root(r.key(), r.value()), r.modRevision()))
        .orElseThrow(() -> TorusExceptions.notFound("volume " + id)));
  }

  @Override
  public CompletableFuture<VolumeLock> lock(VolumeId id, long leaseId, String owner) {
    return retry(() -> kv.get(keys.sessions(id)).thenCompose(s -> {
      KeyValue sessions = s.orElseThrow(() -> TorusExceptions.notFound("volume " + id));
      long session = RecordCodec.counter(sessions.key(), sessions.value()) + 1;
      LockInfo info = new LockInfo(owner, session, now());
      Txn txn = new Txn(
          List.of(Compare.absent(keys.lock(id)),
              Compare.modRevision(keys.sessions(id), sessions.modRevision())),
          List.of(new KvOp.Put(keys.lock(id), RecordCodec.lock(new RecordCodec.LockRecord(info, leaseId)), leaseId),
              new KvOp.Put(keys.sessions(id), RecordCodec.counter(session), 0)),
          List.of(new KvOp.Get(keys.lock(id)), new KvOp.Get(keys.info(id))));
      return kv.txn(txn).thenApply(r -> {
        if (r.succeeded()) {
          return Optional.of(new VolumeLock(id, owner, session, leaseId, r.revision()));
        }
        if (r.reads().get(1).isEmpty()) {
          throw TorusExceptions.notFound("volume " + id);
        }
        if (!r.reads().get(0).isEmpty()) {
          KeyValue info1 = r.reads().get(1).get(0);
          String name = RecordCodec.volume(info1.key(), info1.value()).name();
          throw lockedBy(name, r.reads().get(0).get(0), "open it for writing here");
        }
        return Optional.<VolumeLock>empty();
      });
    }), "locking volume " + id);
  }

  @Override
  public CompletableFuture<Void> unlock(VolumeLock lock) {
    Txn txn = new Txn(
        List.of(Compare.modRevision(keys.lock(lock.volume()), lock.revision())),
        List.of(new KvOp.Delete(keys.lock(lock.volume()))),
        List.of());
    return kv.txn(txn).thenAccept(r -> {});
  }

  @Override
  public CompletableFuture<Optional<LockInfo>> lockStatus(VolumeId id) {
    return kv.get(keys.lock(id)).thenApply(v -> v.map(l -> RecordCodec.lock(l.key(), l.value()).info()));
  }

  @Override
  public CompletableFuture<Versioned<VolumeRoot>> commit(
      VolumeLock lock, long expectedRevision, VolumeRoot next) {
    VolumeId id = lock.volume();
    Txn txn = new Txn(
        List.of(Compare.modRevision(keys.lock(id), lock.revision()),
            Compare.modRevision(keys.root(id), expectedRevision)),
        List.of(new KvOp.Put(keys.root(id), RecordCodec.root(next), 0)),
        List.of(new KvOp.Get(keys.lock(id)), new KvOp.Get(keys.root(id))));
    return kv.txn(txn).thenApply(r -> {
      if (r.succeeded()) {
        return new Versioned<>(next, r.revision());
      }
      List<KeyValue> held = r.reads().get(0);
      if (held.isEmpty() || held.get(0).modRevision() != lock.revision()) {
        throw TorusExceptions.locked("the write lock on volume " + id + " was lost (its lease expired"
            + " or it was taken over); the commit was refused and writes since the last commit are"
            + " not durable");
      }
      List<KeyValue> root = r.reads().get(1);
      throw new CompareFailedException(keys.root(id), expectedRevision,
          root.isEmpty() ? 0 : root.get(0).modRevision(), "volume " + id + " root moved");
    });
  }

  @Override
  public CompletableFuture<SnapshotInfo> createSnapshot(VolumeId id, String name) {
    Names.checkSnapshotName(name);
    return retry(() -> root(id).thenCompose(root -> {
      SnapshotInfo snap = new SnapshotInfo(id, name, now(), root.value());
      Txn txn = new Txn(
          List.of(Compare.modRevision(keys.root(id), root.revision()),
              Compare.absent(keys.snapshot(id, name))),
          List.of(new KvOp.Put(keys.snapshot(id, name), RecordCodec.snapshot(snap), 0)),
          List.of(new KvOp.Get(keys.snapshot(id, name)), new KvOp.Get(keys.root(id))));
      return kv.txn(txn).thenApply(r -> {
        if (r.succeeded()) {
          return Optional.of(snap);
        }
        if (!r.reads().get(0).isEmpty()) {
          throw TorusExceptions.alreadyExists("snapshot '" + name + "'");
        }
        if (r.reads().get(1).isEmpty()) {
          throw TorusExceptions.notFound("volume " + id);
        }
        return Optional.<SnapshotInfo>empty(); // a commit landed in between: capture the new root
      });
    }), "snapshotting volume " + id);
  }

  @Override
  public CompletableFuture<List<SnapshotInfo>> listSnapshots(VolumeId id) {
    return kv.range(keys.snapshots(id)).thenApply(r -> r.kvs().stream()
        .map(s -> RecordCodec.snapshot(s.key(), id, s.value()))
        .sorted(Comparator.comparing(SnapshotInfo::created).thenComparing(SnapshotInfo::name))
        .toList());
  }

  @Override
  public CompletableFuture<SnapshotInfo> getSnapshot(VolumeId id, String name) {
    return versionedSnapshot(id, name).thenApply(Versioned::value);
  }

  private CompletableFuture<Versioned<SnapshotInfo>> versionedSnapshot(VolumeId id, String name) {
    Names.checkSnapshotName(name);
    return kv.get(keys.snapshot(id, name)).thenApply(v -> v
        .map(s -> new Versioned<>(RecordCodec.snapshot(s.key(), id, s.value()), s.modRevision()))
        .orElseThrow(() -> TorusExceptions.notFound("snapshot '" + name + "' of volume " + id)));
  }

  @Override
  public CompletableFuture<Void> deleteSnapshot(VolumeId id, String name) {
    Names.checkSnapshotName(name);
    Txn txn = new Txn(List.of(Compare.present(keys.snapshot(id, name))),
        List.of(new KvOp.Delete(keys.snapshot(id, name))), List.of());
    return kv.txn(txn).thenAccept(r -> {
      if (!r.succeeded()) {
        throw TorusExceptions.notFound("snapshot '" + name + "' of volume " + id);
      }
    });
  }

  @Override
  public CompletableFuture<Versioned<VolumeRoot>> restoreSnapshot(VolumeId id, String name) {
    return versionedSnapshot(id, name).thenCompose(snap -> {
      Txn txn = new Txn(
          List.of(Compare.absent(keys.lock(id)),
              Compare.modRevision(keys.snapshot(id, name), snap.revision())),
          List.of(new KvOp.Put(keys.root(id), RecordCodec.root(snap.value().root()), 0)),
          List.of(new KvOp.Get(keys.lock(id)), new KvOp.Get(keys.info(id))));
      return kv.txn(txn).thenApply(r -> {
        if (r.succeeded()) {
          return new Versioned<>(snap.value().root(), r.revision());
        }
        if (!r.reads().get(0).isEmpty() && !r.reads().get(1).isEmpty()) {
          KeyValue info = r.reads().get(1).get(0);
          throw lockedBy(RecordCodec.volume(info.key(), info.value()).name(), r.reads().get(0).get(0),
              "restore a snapshot");
        }
        throw TorusExceptions.notFound("snapshot '" + name + "' of volume " + id);
      });
    });
  }

  @Override
  public CompletableFuture<VolumeInfo> cloneSnapshot(VolumeId id, String snapshot, String newName) {
    Names.checkVolumeName(newName);
    return kv.get(keys.info(id)).thenCompose(info -> {
      KeyValue i = info.orElseThrow(() -> TorusExceptions.notFound("volume " + id));
      String source = RecordCodec.volume(i.key(), i.value()).name();
      return getSnapshot(id, snapshot)
          .thenCompose(snap -> newVolume(newName, snap.root(), source + "@" + snapshot));
    });
  }

  /** Every volume's keys plus the volume counter, read at one revision. */
  CompletableFuture<ClusterView> view() {
    Txn txn = Txn.of(List.of(new KvOp.GetPrefix(keys.volumesPrefix()), new KvOp.Get(keys.volumeCounter())));
    return kv.txn(txn).thenApply(r -> {
      List<KeyValue> counter = r.reads().get(1);
      if (counter.isEmpty()) {
        throw KvMetadataService.notInitialized(kv, keys);
      }
      List<VolumeState> states = new ArrayList<>();
      for (VolumeKeys v : group(r.reads().get(0)).values()) {
        if (v.info == null || v.root == null || v.sessions == null) {
          // A half-present volume cannot occur through our transactions: refuse to guess.
          throw TorusExceptions.corrupted("volume " + v.id + " has incomplete metadata under "
              + keys.volume(v.id) + "; garbage collection is skipped until it is repaired");
        }
        List<SnapshotInfo> snaps = v.snapshots.stream()
            .map(s -> RecordCodec.snapshot(s.key(), v.id, s.value())).toList();
        Optional<LockInfo> lock = Optional.ofNullable(v.lock)
            .map(l -> RecordCodec.lock(l.key(), l.value()).info());
        states.add(new VolumeState(info(v.info, v.root), RecordCodec.root(v.root.key(), v.root.value()),
            snaps, RecordCodec.counter(v.sessions.key(), v.sessions.value()), lock));
      }
      KeyValue c = counter.get(0);
      return new ClusterView(r.revision(), RecordCodec.counter(c.key(), c.value()), states);
    });
  }

  /** The keys of one volume, gathered from a range read. */
  private static final class VolumeKeys {
    final VolumeId id;
    KeyValue info;
    KeyValue root;
    KeyValue sessions;
    KeyValue lock;
    final List<KeyValue> snapshots = new ArrayList<>();

    VolumeKeys(VolumeId id) {
      this.id = id;
    }
  }

  private Map<VolumeId, VolumeKeys> group(List<KeyValue> kvs) {
    Map<VolumeId, VolumeKeys> byId = new LinkedHashMap<>();
    for (KeyValue entry : kvs) {
      VolumeId id;
      try {
        id = keys.volumeOf(entry.key());
      } catch (RuntimeException e) {
        throw RecordCodec.corrupt(entry.key(), "volume key", e);
      }
      VolumeKeys v = byId.computeIfAbsent(id, VolumeKeys::new);
      String suffix = keys.volumeSuffix(entry.key());
      switch (suffix) {
        case "info" -> v.info = entry;
        case "root" -> v.root = entry;
        case "sessions" -> v.sessions = entry;
        case "lock" -> v.lock = entry;
        default -> {
          if (suffix.startsWith("snapshots/")) {
            v.snapshots.add(entry);
          }
        }
      }
    }
    return byId;
  }

  /**
   * Runs an internal compare-and-swap until it applies: {@code attempt} yields empty when it lost a
   * race it may safely redo. Gives up with {@code COMPARE_FAILED} under sustained contention.
   */
  private static <T> CompletableFuture<T> retry(
      Supplier<CompletableFuture<Optional<T>>> attempt, String what) {
    return retry(attempt, what, 1);
  }

  private static <T> CompletableFuture<T> retry(
      Supplier<CompletableFuture<Optional<T>>> attempt, String what, int n) {
    return attempt.get().thenCompose(result -> {
      if (result.isPresent()) {
        return CompletableFuture.completedFuture(result.get());
      }
      if (n >= MAX_ATTEMPTS) {
        throw new TorusException(ErrorCode.COMPARE_FAILED,
            what + " lost " + n + " races in a row; the metadata is too busy, try again");
      }
      return retry(attempt, what, n + 1);
    });
  }
}
