package dev.torus.gc;

import java.time.Duration;
import java.util.Objects;

/**
 * How garbage collection runs.
 *
 * @param interval time between cycles
 * @param grace a block is deleted only after it was found unreachable in two cycles at least this
 *     far apart, so a reader that opened an older root a moment ago can finish
 * @param batch how many deletes run at once
 */
public record GcConfig(Duration interval, Duration grace, int batch) {
  /** A cycle a minute, two minutes' grace, 256 deletes at a time. */
  public static final GcConfig DEFAULT = new GcConfig(Duration.ofMinutes(1), Duration.ofMinutes(2), 256);

  public GcConfig {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(grace, "grace");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive");
    }
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must not be negative");
    }
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1");
    }
  }
}
