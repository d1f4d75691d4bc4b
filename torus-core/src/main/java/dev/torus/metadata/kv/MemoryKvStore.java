package dev.torus.metadata.kv;

import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.SerialExecutor;
import dev.torus.metadata.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * An in-process {@link KvStore} with etcd's semantics, for unit tests and single-process use.
 *
 * <p>Concurrency: one monitor guards everything; operations are short and never block. Leases
 * expire lazily: every operation first deletes the keys of leases whose time has passed, exactly
 * as if etcd's lessor had run. Watches get a range snapshot taken under the monitor and delivered
 * through a per-watch serial executor, skipping snapshots older than one already delivered.
 */
final class MemoryKvStore implements KvStore {
  private final LongSupplier millis;
  private final Executor executor;
  private final TreeMap<String, KeyValue> data = new TreeMap<>();
  private final Map<Long, long[]> leases = new HashMap<>(); // id -> {ttlMillis, expiresAtMillis}
  private final List<Watch> watches = new CopyOnWriteArrayList<>();
  private long revision = 1;
  private long notifiedRevision = 1;
  private long nextLease = 0x1000;
  private boolean closed;

  MemoryKvStore(LongSupplier millis, Executor executor) {
    this.millis = millis;
    this.executor = executor;
  }

  @Override
  public String location() {
    return "memory";
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key) {
    CompletableFuture<Optional<KeyValue>> result;
    synchronized (this) {
      result = run(() -> {
        expireLeases();
        return Optional.ofNullable(data.get(key));
      });
    }
    notifyWatches();
    return result;
  }

  @Override
  public CompletableFuture<Range> range(String prefix) {
    if (!prefix.endsWith("/")) {
      return CompletableFuture.failedFuture(
          TorusExceptions.invalid("prefix must end with '/': " + prefix));
    }
    CompletableFuture<Range> result;
    synchronized (this) {
      result = run(() -> {
        expireLeases();
        return new Range(revision, scan(prefix));
      });
    }
    notifyWatches();
    return result;
  }

  @Override
  public CompletableFuture<TxnResult> txn(Txn txn) {
    CompletableFuture<TxnResult> result;
    synchronized (this) {
      result = run(() -> {
        expireLeases();
        boolean ok = txn.compares().stream().allMatch(c -> c.test(data.get(c.key())));
        return apply(ok, ok ? txn.onSuccess() : txn.onFailure());
      });
    }
    notifyWatches();
    return result;
  }

  private TxnResult apply(boolean succeeded, List<KvOp> ops) {
    long rev = revision + 1; // used only if something changes: deleting nothing bumps nothing
    boolean changed = false;
    for (KvOp op : ops) { // validate first: a transaction applies entirely or not at all
      if (op instanceof KvOp.Put put && put.lease() != 0 && !leases.containsKey(put.lease())) {
        throw TorusExceptions.notFound("lease " + Long.toHexString(put.lease()));
      }
    }
    List<List<KeyValue>> reads = new ArrayList<>();
    for (KvOp op : ops) {
      if (op instanceof KvOp.Put put) {
        KeyValue old = data.get(put.key());
        data.put(put.key(), new KeyValue(put.key(), put.value().clone(),
            old == null ? rev : old.createRevision(), rev, old == null ? 1 : old.version() + 1,
            put.lease()));
        changed = true;
      } else if (op instanceof KvOp.Delete del) {
        changed |= data.remove(del.key()) != null;
      } else if (op instanceof KvOp.DeletePrefix del) {
        Map<String, KeyValue> under = data.subMap(del.prefix(), del.prefix() + Character.MAX_VALUE);
        changed |= !under.isEmpty();
        under.clear();
      } else if (op instanceof KvOp.Get g) {
        KeyValue kv = data.get(g.key());
        reads.add(kv == null ? List.of() : List.of(kv));
      } else if (op instanceof KvOp.GetPrefix g) {
        reads.add(scan(g.prefix()));
      }
    }
    if (changed) {
      revision = rev;
    }
    return new TxnResult(succeeded, revision, reads);
  }

  private List<KeyValue> scan(String prefix) {
    return new ArrayList<>(data.subMap(prefix, prefix + Character.MAX_VALUE).values());
  }

  @Override
  public synchronized CompletableFuture<Long> grantLease(Duration ttl) {
    return run(() -> {
      long id = nextLease++;
      leases.put(id, new long[] {ttl.toMillis(), millis.getAsLong() + ttl.toMillis()});
      return id;
    });
  }

  @Override
  public CompletableFuture<Duration> keepAlive(long leaseId) {
    CompletableFuture<Duration> result;
    synchronized (this) {
      result = run(() -> {
        expireLeases();
        long[] lease = leases.get(leaseId);
        if (lease == null) {
          throw TorusExceptions.notFound("lease " + Long.toHexString(leaseId));
        }
        lease[1] = millis.getAsLong() + lease[0];
        return Duration.ofMillis(lease[0]);
      });
    }
    notifyWatches();
    return result;
  }

  @Override
  public CompletableFuture<Void> revokeLease(long leaseId) {
    CompletableFuture<Void> result;
    synchronized (this) {
      result = run(() -> {
        if (leases.remove(leaseId) != null) {
          dropLeaseKeys(List.of(leaseId));
        }
        return null;
      });
    }
    notifyWatches();
    return result;
  }

  private void expireLeases() {
    long now = millis.getAsLong();
    List<Long> expired = new ArrayList<>();
    for (Iterator<Map.Entry<Long, long[]>> it = leases.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, long[]> e = it.next();
      if (e.getValue()[1] <= now) {
        expired.add(e.getKey());
        it.remove();
      }
    }
    if (!expired.isEmpty()) {
      dropLeaseKeys(expired);
    }
  }

  private void dropLeaseKeys(List<Long> ids) {
    if (data.values().removeIf(kv -> kv.lease() != 0 && ids.contains(kv.lease()))) {
      revision++;
    }
  }

  @Override
  public Subscription watch(String prefix, Consumer<Range> onChange) {
    Watch w = new Watch(prefix, onChange, new SerialExecutor(executor));
    watches.add(w);
    w.offer(range(prefix).join());
    return () -> watches.remove(w);
  }

  /** Offers every watch a fresh range if anything changed since the last notification. */
  private void notifyWatches() {
    synchronized (this) {
      if (revision == notifiedRevision) {
        return;
      }
      notifiedRevision = revision;
    }
    for (Watch w : watches) {
      Range r;
      synchronized (this) {
        if (closed) {
          return;
        }
        r = new Range(revision, scan(w.prefix));
      }
      w.offer(r);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    watches.clear();
  }

  private <T> CompletableFuture<T> run(java.util.function.Supplier<T> op) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("memory metadata store"));
    }
    try {
      return CompletableFuture.completedFuture(op.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** One watch; delivers a range only if it is newer than the last one delivered and differs. */
  private static final class Watch {
    final String prefix;
    final Consumer<Range> onChange;
    final Executor serial;
    private @Nullable Range delivered;

    Watch(String prefix, Consumer<Range> onChange, Executor serial) {
      this.prefix = prefix;
      this.onChange = onChange;
      this.serial = serial;
    }

    void offer(Range r) {
      serial.execute(() -> {
        Range last = delivered;
        if (last != null && (r.revision() <= last.revision() || r.sameVersionsAs(last))) {
          return;
        }
        delivered = r;
        onChange.accept(r);
      });
    }
  }
}
