package dev.torus.metadata;

import dev.torus.ring.Ring;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The placement ring, changed only by compare-and-swap. */
public interface RingMetadata {
  /** The current ring. */
  CompletableFuture<Versioned<Ring>> current();

  /**
   * Replaces the ring if it is still at {@code expectedRevision} and {@code next} is exactly one
   * version newer. Fails with {@code COMPARE_FAILED} otherwise; never retried automatically.
   */
  CompletableFuture<Versioned<Ring>> compareAndSet(Ring next, long expectedRevision);

  /**
   * Calls {@code onUpdate} with the current ring and then with every change, in revision order,
   * surviving backend restarts. Close the subscription to stop.
   */
  Subscription watch(Consumer<Versioned<Ring>> onUpdate);
}
