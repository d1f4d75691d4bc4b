package dev.torus.internal.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
  @Test
  void runsTasksOneAtATimeInSubmissionOrder() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      SerialExecutor serial = new SerialExecutor(pool);
      List<Integer> order = new ArrayList<>();
      AtomicBoolean overlapped = new AtomicBoolean();
      AtomicBoolean inside = new AtomicBoolean();
      for (int i = 0; i < 2000; i++) {
        int n = i;
        serial.execute(() -> {
          if (!inside.compareAndSet(false, true)) {
            overlapped.set(true);
          }
          order.add(n);
          inside.set(false);
        });
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      assertThat(overlapped).isFalse();
      synchronized (order) {
        assertThat(order).hasSize(2000).isSorted();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aRejectedStartFailsThatTaskAndLeavesTheExecutorUsable() {
    AtomicBoolean accepting = new AtomicBoolean(false);
    SerialExecutor serial = new SerialExecutor(task -> {
      if (!accepting.get()) {
        throw new RejectedExecutionException("shut down");
      }
      task.run();
    });
    AtomicBoolean rejectedRan = new AtomicBoolean();
    assertThatThrownBy(() -> serial.execute(() -> rejectedRan.set(true)))
        .isInstanceOf(RejectedExecutionException.class);
    assertThat(rejectedRan).isFalse();

    accepting.set(true);
    AtomicBoolean laterRan = new AtomicBoolean();
    serial.execute(() -> laterRan.set(true));
    assertThat(laterRan).as("not stuck believing a drain is running").isTrue();
  }
}
