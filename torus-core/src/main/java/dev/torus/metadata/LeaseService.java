package dev.torus.metadata;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Time-limited leases. Records written on a lease (locks, peer registrations) disappear when it
 * expires. {@link LeaseKeeper} keeps one alive and reports its loss.
 */
public interface LeaseService {
  /** Grants a lease that lives {@code ttl} unless kept alive; returns its id. */
  CompletableFuture<Long> grant(Duration ttl);

  /** Renews a lease once; returns its remaining time. Fails with {@code NOT_FOUND} if expired. */
  CompletableFuture<Duration> keepAlive(long leaseId);

  /** Ends a lease now, deleting its records. Revoking an expired lease succeeds. */
  CompletableFuture<Void> revoke(long leaseId);
}
