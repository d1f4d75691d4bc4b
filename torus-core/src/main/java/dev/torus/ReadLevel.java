package dev.torus;

import java.util.Locale;

/** How a read looks for a block among its replicas. */
public enum ReadLevel {
  /** Owners then the rest of the ring in order, a few rounds with backoff (the default). */
  BLOCK,
  /** One pass over the owners and then the rest of the ring, in order. */
  SEQ,
  /** Every owner at once; the first answer wins, then the rest of the ring in order. */
  SPREAD;

  /** Parses {@code block}, {@code seq} or {@code spread}. */
  public static ReadLevel parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "block" -> BLOCK;
      case "seq" -> SEQ;
      case "spread" -> SPREAD;
      default -> throw TorusExceptions.invalid(
          "invalid read level '" + name + "': use one of 'spread', 'seq', or 'block'");
    };
  }

  /** The flag spelling. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
