package dev.torus.metadata.kv;

import dev.torus.metadata.Subscription;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A transactional key-value store with etcd's semantics: a global revision that every write
 * bumps, per-key create/mod revisions and versions, compare-and-swap transactions, leases that
 * delete their keys on expiry, and watches. Implemented by the embedded store, by etcd, and in
 * memory. Thread-safe; every failure is a {@link dev.torus.TorusException} ({@code UNAVAILABLE}
 * naming the endpoint when the store cannot be reached).
 */
public interface KvStore extends AutoCloseable {
  /** Where the store lives, for messages. */
  String location();

  /** One key. */
  CompletableFuture<Optional<KeyValue>> get(String key);

  /** Every key under {@code prefix} (which must end with {@code /}), sorted, at one revision. */
  CompletableFuture<Range> range(String prefix);

  /** Runs a transaction atomically. */
  CompletableFuture<TxnResult> txn(Txn txn);

  /** Grants a lease; returns its id (never 0). */
  CompletableFuture<Long> grantLease(Duration ttl);

  /** Renews a lease; returns its remaining TTL; {@code NOT_FOUND} if it already expired. */
  CompletableFuture<Duration> keepAlive(long leaseId);

  /** Revokes a lease and deletes its keys; revoking an unknown lease succeeds. */
  CompletableFuture<Void> revokeLease(long leaseId);

  /**
   * Delivers the full range under {@code prefix} now and again after every change to it, in
   * revision order and never older than what was delivered before. The watch outlives backend
   * restarts and compactions: after one it re-reads the range and carries on. Callbacks run one at
   * a time on a store thread.
   */
  Subscription watch(String prefix, Consumer<Range> onChange);

  /** Closes connections and stops watches; idempotent. */
  @Override
  void close();
}
