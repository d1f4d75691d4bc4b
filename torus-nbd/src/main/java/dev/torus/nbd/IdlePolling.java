package dev.torus.nbd;

import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.SelectStrategy;
import io.netty.channel.SelectStrategyFactory;
import io.netty.util.IntSupplier;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A select strategy that makes an event loop with nothing to do poll its sockets for a while
 * before it sleeps in the kernel ({@link NbdServerConfig#idlePoll()}).
 *
 * <p>Why: a client with one request outstanding (a file system's synchronous writes, a database's
 * log, fio at queue depth 1) sends its next request tens of microseconds after our reply. Going to
 * sleep in the kernel and being woken for it costs about as much CPU as serving the request, and
 * adds that much to every request's latency; polling for 50 µs instead doubled 4 KiB random reads
 * and writes at queue depth 1 on the build machine (docs/benchmarks.md). The price is CPU while a
 * connection is busy but not saturated: after each burst of work a loop polls for up to that long
 * before it sleeps, so a client that sends a request every 100 µs keeps half of a core busy. An
 * idle server sleeps as before.
 *
 * <p>Tasks that other threads hand to the loop (the reply to a read a store thread completed) end
 * the polling too: Netty wakes a loop for new tasks only when it sleeps in the kernel, so without
 * that check they would wait for the polling to run out.
 *
 * <p>A loop whose connections have more than one request under way ({@link UnderWay}) does not
 * poll: those requests wait on other threads, a store's reads, and those threads need the CPU that
 * polling would take. With polling, 4 KiB random reads at queue depth 16 from a durable volume ran
 * at about 47,000 IOPS on the build machine's two cores, without it at 50,000 to 60,000
 * (docs/benchmarks.md). One request under way is a client at queue depth 1, whose reply polling
 * picks up without a wake-up.
 */
final class IdlePolling implements SelectStrategy {
  private final long pollNanos;
  private final LongSupplier clock;
  /** Whether the loop has tasks waiting; looked up on the loop's thread at the first call. */
  private @Nullable BooleanSupplier tasksWaiting;
  /** The requests under way on the loop; looked up on the loop's thread at the first call. */
  private @Nullable UnderWay underWay;

  IdlePolling(Duration poll, LongSupplier clock, @Nullable BooleanSupplier tasksWaiting,
      @Nullable UnderWay underWay) {
    this.pollNanos = poll.toNanos();
    this.clock = clock;
    this.tasksWaiting = tasksWaiting;
    this.underWay = underWay;
  }

  /** Loops that poll for {@code poll} before they sleep; Netty's plain strategy for zero. */
  static SelectStrategyFactory factory(Duration poll) {
    if (poll.isZero()) {
      return DefaultSelectStrategyFactory.INSTANCE;
    }
    return () -> new IdlePolling(poll, System::nanoTime, null, null);
  }

  @Override
  public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
    if (hasTasks) {
      return selectNow.get();
    }
    if (underWay == null) {
      underWay = UnderWay.ofCurrentThread();
    }
    if (underWay.count() > 1) {
      return SELECT;
    }
    BooleanSupplier tasks = tasksWaiting();
    long deadline = clock.getAsLong() + pollNanos;
    do {
      int ready = selectNow.get();
      if (ready != 0 || tasks.getAsBoolean()) {
        return ready;
      }
      Thread.onSpinWait();
    } while (clock.getAsLong() - deadline < 0);
    return SELECT;
  }

  private BooleanSupplier tasksWaiting() {
    if (tasksWaiting == null) {
      EventExecutor loop = ThreadExecutorMap.currentExecutor();
      tasksWaiting = loop instanceof SingleThreadEventExecutor single
          ? () -> single.pendingTasks() > 0
          : () -> false;
    }
    return tasksWaiting;
  }

  /**
   * The requests that the connections of one event loop have received and the device has not yet
   * answered, counted on the loop's own thread (by {@link TransmissionHandler}), so no
   * synchronisation.
   */
  static final class UnderWay {
    private static final FastThreadLocal<UnderWay> OF_THREAD = new FastThreadLocal<>() {
      @Override
      protected UnderWay initialValue() {
        return new UnderWay();
      }
    };

    private int count;

    /** The count of the event loop that runs on the calling thread. */
    static UnderWay ofCurrentThread() {
      return OF_THREAD.get();
    }

    void started() {
      count++;
    }

    void answered() {
      count--;
    }

    int count() {
      return count;
    }
  }
}
