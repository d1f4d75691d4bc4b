package dev.torus.internal.concurrent;

import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

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

  /**
   * Runs {@code tasks} with at most {@code limit} of them in flight, in order; completes when all
   * have, failing with the first failure (after every task ended).
   */
  public static CompletableFuture<Void> window(List<Supplier<CompletableFuture<Void>>> tasks, int limit) {
    return tasks.isEmpty() ? done() : new Window(tasks, limit).start();
  }

  /**
   * The bookkeeping of {@link #window}. Tasks that complete at once (an in-memory store) would
   * otherwise start the next task from inside the previous one's callback, nesting one stack frame
   * per task; {@link #pump} instead loops, and a callback that arrives while it runs only asks it
   * to go round again.
   */
  private static final class Window {
    private final List<Supplier<CompletableFuture<Void>>> tasks;
    private final int limit;
    private final CompletableFuture<Void> all = new CompletableFuture<>();
    private final AtomicBoolean pumping = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean again;
    private int next;
    private int running;
    private int finished;

    Window(List<Supplier<CompletableFuture<Void>>> tasks, int limit) {
      this.tasks = tasks;
      this.limit = Math.max(1, limit);
    }

    CompletableFuture<Void> start() {
      pump();
      return all;
    }

    private void pump() {
      do {
        if (!pumping.compareAndSet(false, true)) {
          again = true;
          return;
        }
        again = false;
        while (true) {
          int i;
          synchronized (this) {
            if (running >= limit || next >= tasks.size()) {
              break;
            }
            running++;
            i = next++;
          }
          CompletableFuture<Void> f;
          try {
            f = tasks.get(i).get();
          } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
          }
          f.whenComplete((v, e) -> finished(e));
        }
        pumping.set(false);
      } while (again);
    }

    private void finished(Throwable e) {
      if (e != null) {
        failure.compareAndSet(null, e);
      }
      boolean last;
      synchronized (this) {
        running--;
        last = ++finished == tasks.size();
      }
      if (last) {
        Throwable t = failure.get();
        if (t == null) {
          all.complete(null);
        } else {
          all.completeExceptionally(t);
        }
      } else {
        pump();
      }
    }
  }

  /** A failed future carrying the {@link TorusException} form of {@code t}. */
  public static <T> CompletableFuture<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(TorusExceptions.unwrap(t));
  }
}
