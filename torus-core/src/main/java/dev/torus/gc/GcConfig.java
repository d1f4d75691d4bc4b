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
 * @param pressure how collection speeds up when the store runs short of space
 */
public record GcConfig(Duration interval, Duration grace, int batch, Pressure pressure) {
  /**
   * A cycle a minute, two minutes' grace, 256 deletes at a time; from 80% full, a cycle every 5 s
   * with 5 s grace.
   */
  public static final GcConfig DEFAULT =
      new GcConfig(Duration.ofMinutes(1), Duration.ofMinutes(2), 256, Pressure.DEFAULT);

  public GcConfig {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(grace, "grace");
    Objects.requireNonNull(pressure, "pressure");
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

  /** With the default {@link Pressure}. */
  public GcConfig(Duration interval, Duration grace, int batch) {
    this(interval, grace, batch, Pressure.DEFAULT);
  }

  /**
   * Collection when the local store is short of space. Overwritten blocks become garbage at the
   * pace of the writes (a 4 KiB write into a 32 KiB block supersedes 32 KiB), and at the normal
   * pace a busy volume's garbage could fill the store before its first cycle; from {@code
   * usedFraction} of the capacity on, cycles run every {@code interval} and wait {@code grace}
   * (or at the normal interval and grace, where those are shorter).
   *
   * @param usedFraction the share of the store's capacity in use, above 0 and at most 1, from
   *     which the store counts as short of space, until its use falls ten points below it
   */
  public record Pressure(double usedFraction, Duration interval, Duration grace) {
    /**
     * From 80% full: a cycle every 5 s, 5 s grace, so garbage lives 10 to 15 s after the commit
     * that made it (time enough for a read that started on the older root).
     */
    public static final Pressure DEFAULT =
        new Pressure(0.8, Duration.ofSeconds(5), Duration.ofSeconds(5));

    public Pressure {
      Objects.requireNonNull(interval, "interval");
      Objects.requireNonNull(grace, "grace");
      if (!(usedFraction > 0 && usedFraction <= 1)) {
        throw new IllegalArgumentException("usedFraction must be in (0, 1], not " + usedFraction);
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("pressure interval must be positive");
      }
      if (grace.isNegative()) {
        throw new IllegalArgumentException("pressure grace must not be negative");
      }
    }
  }
}
