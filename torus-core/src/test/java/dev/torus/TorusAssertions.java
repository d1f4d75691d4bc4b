package dev.torus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions the test suites of several modules share. */
public final class TorusAssertions {
  private TorusAssertions() {}

  /** {@code call} fails with a {@link TorusException} of {@code code}. */
  public static void assertCode(ErrorCode code, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(code));
  }

  /** Polls {@code condition} until it holds, failing after {@code within}. */
  public static void eventually(BooleanSupplier condition, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + within);
      }
      Thread.sleep(20);
    }
  }
}
