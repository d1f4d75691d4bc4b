package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

final class IdlePollingTest {
  private static final Duration POLL = Duration.ofNanos(50_000);
  /** Each poll advances the fake clock by this much. */
  private static final long STEP = 1_000;

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final AtomicInteger polls = new AtomicInteger();

  /** A selectNow that reports {@code ready} events from poll number {@code from} on (1-based). */
  private IntSupplier eventsFrom(int from, int ready) {
    return () -> {
      now.addAndGet(STEP);
      return polls.incrementAndGet() >= from ? ready : 0;
    };
  }

  @Test
  void withNothingArrivingItPollsForTheWholeTimeThenSleeps() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false);

    int result = strategy.calculateStrategy(eventsFrom(Integer.MAX_VALUE, 1), false);

    assertThat(result).isEqualTo(SelectStrategy.SELECT);
    assertThat(polls.get()).isEqualTo((int) (POLL.toNanos() / STEP));
  }

  @Test
  void eventsThatArriveWhileItPollsAreServedWithoutSleeping() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false);

    assertThat(strategy.calculateStrategy(eventsFrom(7, 3), false)).isEqualTo(3);
    assertThat(polls.get()).isEqualTo(7);
  }

  @Test
  void tasksWaitingEndThePolling() throws Exception {
    AtomicInteger checks = new AtomicInteger();
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> checks.incrementAndGet() >= 4);

    assertThat(strategy.calculateStrategy(eventsFrom(Integer.MAX_VALUE, 1), false)).isZero();
    assertThat(polls.get()).isEqualTo(4);
  }

  @Test
  void withTasksAtHandItLooksOnceAndDoesNotPoll() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false);

    assertThat(strategy.calculateStrategy(eventsFrom(Integer.MAX_VALUE, 1), true)).isZero();
    assertThat(polls.get()).isEqualTo(1);
  }

  @Test
  void zeroMeansNettysPlainStrategy() {
    assertThat(IdlePolling.factory(Duration.ZERO)).isSameAs(DefaultSelectStrategyFactory.INSTANCE);
    assertThat(IdlePolling.factory(POLL).newSelectStrategy()).isInstanceOf(IdlePolling.class);
  }

  /**
   * On a real loop it finds the loop's task queue itself. The clock never moves, so only the task
   * queued before it polls can end the polling, or else an event on the millionth poll.
   */
  @Test
  void onAnEventLoopItSeesTheLoopsOwnTaskQueue() throws Exception {
    DefaultEventLoop loop = new DefaultEventLoop();
    try {
      IdlePolling strategy = new IdlePolling(POLL, () -> 0L, null);
      int result = loop.submit(() -> {
        loop.execute(() -> { });
        return strategy.calculateStrategy(() -> polls.incrementAndGet() >= 1_000_000 ? 1 : 0, false);
      }).get(1, TimeUnit.MINUTES);

      assertThat(result).isZero();
      assertThat(polls.get()).isEqualTo(1);
    } finally {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
