package dev.torus;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A number of bytes. Parses the forms operators type: {@code 4096}, {@code 512KiB}, {@code 10GiB}
 * (powers of 1024), {@code 10GB} (powers of 1000), decimals such as {@code 1.5GiB}.
 */
public record DataSize(long bytes) implements Comparable<DataSize> {
  private static final Pattern FORM =
      Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([kmgtpe]?)(i?)(b?)\\s*", Pattern.CASE_INSENSITIVE);

  public DataSize {
    if (bytes < 0) {
      throw new IllegalArgumentException("size < 0: " + bytes);
    }
  }

  public static DataSize ofBytes(long bytes) {
    return new DataSize(bytes);
  }

  public static DataSize ofKibibytes(long n) {
    return new DataSize(Math.multiplyExact(n, 1L << 10));
  }

  public static DataSize ofMebibytes(long n) {
    return new DataSize(Math.multiplyExact(n, 1L << 20));
  }

  public static DataSize ofGibibytes(long n) {
    return new DataSize(Math.multiplyExact(n, 1L << 30));
  }

  public static DataSize ofTebibytes(long n) {
    return new DataSize(Math.multiplyExact(n, 1L << 40));
  }

  /**
   * Parses a size. Fails with {@link ErrorCode#INVALID_ARGUMENT} and a message that shows the
   * accepted forms.
   */
  public static DataSize parse(String text) {
    Matcher m = FORM.matcher(text);
    if (!m.matches() || (m.group(2).isEmpty() && !m.group(3).isEmpty())) {
      throw TorusExceptions.invalid(
          "invalid size '" + text + "': use a byte count or a number with a unit, e.g. 512MiB, 10GiB, 1.5TB");
    }
    int power = "kmgtpe".indexOf(m.group(2).toLowerCase(Locale.ROOT)) + 1;
    BigDecimal base = BigDecimal.valueOf(m.group(3).isEmpty() ? 1000 : 1024);
    BigDecimal value = new BigDecimal(m.group(1)).multiply(base.pow(power));
    try {
      return new DataSize(value.setScale(0, java.math.RoundingMode.FLOOR).longValueExact());
    } catch (ArithmeticException e) {
      throw TorusExceptions.invalid("invalid size '" + text + "': too large");
    }
  }

  /** Human form in binary units, e.g. {@code 10 GiB}, {@code 1.5 MiB}, {@code 0 B}. */
  public String toHuman() {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    if (u == 0 || v == Math.rint(v)) {
      return String.format(Locale.ROOT, "%d %s", (long) v, units[u]);
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  @Override
  public int compareTo(DataSize o) {
    return Long.compare(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return toHuman();
  }
}
