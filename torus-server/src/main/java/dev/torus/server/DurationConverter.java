package dev.torus.server;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses durations such as {@code 50us}, {@code 500ms}, {@code 10s}, {@code 2m}. */
public final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern FORM = Pattern.compile("(\\d+)(us|ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    Matcher m = FORM.matcher(value.trim());
    if (!m.matches()) {
      throw new TypeConversionException("invalid duration '" + value + "': use e.g. 50us, 500ms, 10s, 2m, 1h");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "us" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
