package dev.torus.internal.concurrent;

import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Blocking and combining helpers for {@link CompletableFuture}s. */
public final class Futures {
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private Futures() {}

  /** A completed {@code Void} future. */
  public static CompletableFuture<Void> done() {
    return DONE;
  }

  /**
   * Waits for a future and returns its value; failures are rethrown as {@link TorusException} and
   * an interrupt restores the thread's interrupt flag.
   */
  public static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      throw TorusExceptions.interrupted(e);
    } catch (ExecutionException e) {
      throw TorusExceptions.unwrap(e);
    }
  }

  /** As {@link #join(CompletableFuture)}, failing with {@code TIMEOUT} after {@code timeout}. */
  public static <T> T join(CompletableFuture<T> future, Duration timeout) {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      throw TorusExceptions.interrupted(e);
    } catch (ExecutionException e) {
      throw TorusExceptions.unwrap(e);
    } catch (TimeoutException e) {
      throw TorusExceptions.unwrap(e);
    }
  }

  /** A future that completes when all complete, failing with the first failure (after all ended). */
  public static CompletableFuture<Void> allOf(List<? extends CompletableFuture<?>> futures) {
    if (futures.isEmpty()) {
      return done();
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
  }

  /** A failed future carrying the {@link TorusException} form of {@code t}. */
  public static <T> CompletableFuture<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(TorusExceptions.unwrap(t));
  }
}
