package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check every test relies on must itself catch a leak. */
final class LeakDetectionTest {
  @Test
  void aDroppedBufferFailsTheCheck() {
    leak();

    assertThatThrownBy(() -> new NoLeaks().afterEach(null))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("leaked");
  }

  private static void leak() {
    ByteBufAllocator.DEFAULT.buffer(16).writeLong(42);
  }
}
