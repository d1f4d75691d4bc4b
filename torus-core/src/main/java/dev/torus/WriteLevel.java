package dev.torus;

import java.util.Locale;

/** When a replicated write counts as done. */
public enum WriteLevel {
  /** Every replica the ring asks for acknowledged it (the default). */
  ALL,
  /** At least one replica acknowledged it; the others are written in the background. */
  ONE,
  /** The local store has it; the rebalancer moves it to its owners later. */
  LOCAL;

  /** Parses {@code all}, {@code one} or {@code local}. */
  public static WriteLevel parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "all" -> ALL;
      case "one" -> ONE;
      case "local" -> LOCAL;
      default -> throw TorusExceptions.invalid(
          "invalid write level '" + name + "'; use one of 'one', 'all', or 'local'");
    };
  }

  /** The flag spelling. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
