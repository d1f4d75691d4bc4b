package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.volume.ModelBlockDevice;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.SelectStrategy;
import io.netty.channel.embedded.EmbeddedChannel;
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
  private final IdlePolling.UnderWay underWay = new IdlePolling.UnderWay();

  /** A selectNow that reports {@code ready} events from poll number {@code from} on (1-based). */
  private IntSupplier eventsFrom(int from, int ready) {
    return () -> {
      now.addAndGet(STEP);
      return polls.incrementAndGet() >= from ? ready : 0;
    };
  }

  @Test
  void withNothingArrivingItPollsForTheWholeTimeThenSleeps() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false, underWay);

    int result = strategy.calculateStrategy(eventsFrom(Integer.MAX_VALUE, 1), false);

    assertThat(result).isEqualTo(SelectStrategy.SELECT);
    assertThat(polls.get()).isEqualTo((int) (POLL.toNanos() / STEP));
  }

  @Test
  void eventsThatArriveWhileItPollsAreServedWithoutSleeping() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false, underWay);

    assertThat(strategy.calculateStrategy(eventsFrom(7, 3), false)).isEqualTo(3);
    assertThat(polls.get()).isEqualTo(7);
  }

  @Test
  void tasksWaitingEndThePolling() throws Exception {
    AtomicInteger checks = new AtomicInteger();
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> checks.incrementAndGet() >= 4,
        underWay);

    assertThat(strategy.calculateStrategy(eventsFrom(Integer.MAX_VALUE, 1), false)).isZero();
    assertThat(polls.get()).isEqualTo(4);
  }

  @Test
  void withOneRequestUnderWayItPolls() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false, underWay);
    underWay.started();

    assertThat(strategy.calculateStrategy(eventsFrom(3, 1), false)).isEqualTo(1);
    assertThat(polls.get()).isEqualTo(3);
  }

  @Test
  void withMoreRequestsUnderWayItSleepsAtOnce() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false, underWay);
    underWay.started();
    underWay.started();

    assertThat(strategy.calculateStrategy(eventsFrom(1, 1), false))
        .isEqualTo(SelectStrategy.SELECT);
    assertThat(polls.get()).as("not even one look").isZero();

    underWay.answered();
    assertThat(strategy.calculateStrategy(eventsFrom(1, 1), false)).isEqualTo(1);
  }

  /** The transmission handler counts on the thread of its channel's loop, a test's here. */
  @Test
  void theTransmissionHandlerCountsRequestsUntilTheyAreAnswered() {
    IdlePolling.UnderWay loops = IdlePolling.UnderWay.ofCurrentThread();
    int before = loops.count();
    ModelBlockDevice device = new ModelBlockDevice(1 << 20, 65536);
    EmbeddedChannel channel = new EmbeddedChannel();
    try {
      NbdPipeline.transmission(channel.pipeline(), new Export("m", device,
          Export.transmissionFlags(false, false, ReplyStyle.SIMPLE), ReplyStyle.SIMPLE, false,
          1 << 20, () -> { }), 16, new NbdStats());
      ModelBlockDevice.Gate reads = device.hold(ModelBlockDevice.Op.READ);
      channel.writeInbound(channel.alloc().buffer().writeBytes(
          Wire.hex("25609513 0000 0000 0000000000000001 0000000000000000 00001000")));
      channel.writeInbound(channel.alloc().buffer().writeBytes(
          Wire.hex("25609513 0000 0000 0000000000000002 0000000000001000 00001000")));
      reads.awaitArrivals(2, Duration.ofSeconds(10));
      assertThat(loops.count() - before).as("two reads waiting for the device").isEqualTo(2);

      reads.open();
      channel.runPendingTasks();
      assertThat(loops.count() - before).as("both answered").isZero();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void withTasksAtHandItLooksOnceAndDoesNotPoll() throws Exception {
    IdlePolling strategy = new IdlePolling(POLL, now::get, () -> false, underWay);

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
      IdlePolling strategy = new IdlePolling(POLL, () -> 0L, null, null);
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
