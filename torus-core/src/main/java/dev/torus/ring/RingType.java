package dev.torus.ring;

import dev.torus.TorusExceptions;
import java.util.Locale;

/** The kinds of ring. The codes are stored in metadata and never change. */
public enum RingType {
  /** No peers: every placement fails. The state of a cluster before any node joined. */
  EMPTY(0),
  /** Exactly one peer holds everything. */
  SINGLE(1),
  /** CRC-32 of the block ref modulo the member count picks the first replica. */
  MOD(2),
  /** Old and new ring together, during a migration. */
  UNION(3),
  /** Consistent hashing weighted by capacity. */
  KETAMA(4);

  private final int code;

  RingType(int code) {
    this.code = code;
  }

  /** The stable numeric code. */
  public int code() {
    return code;
  }

  /** The type for a stored code. */
  public static RingType fromCode(int code) {
    for (RingType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown ring type code " + code);
  }

  /** Parses a name such as {@code mod}; fails with {@code INVALID_ARGUMENT} listing the names. */
  public static RingType parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw TorusExceptions.invalid(
          "unknown ring type '" + name + "': use one of empty, single, mod, ketama");
    }
  }

  /** The lowercase name used by the CLI. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
