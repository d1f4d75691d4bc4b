package dev.torus.ring;

import dev.torus.TorusExceptions;
import java.util.List;

/** Factories for rings. */
public final class Rings {
  private Rings() {}

  /** The empty ring at a version. */
  public static Ring empty(long version) {
    return new EmptyRing(version);
  }

  /** A ring where one peer holds every block. */
  public static Ring single(long version, RingMember member) {
    return new SingleRing(version, member);
  }

  /** A mod ring over members in the given order. */
  public static Ring mod(long version, int replication, List<RingMember> members) {
    return new ModRing(version, replication, members);
  }

  /**
   * A ring of the given type; {@code members} must suit it (none for empty, exactly one for
   * single). Fails with {@code INVALID_ARGUMENT} otherwise.
   */
  public static Ring of(RingType type, long version, int replication, List<RingMember> members) {
    return switch (type) {
      case EMPTY -> {
        if (!members.isEmpty()) {
          throw TorusExceptions.invalid("an empty ring has no members");
        }
        yield empty(version);
      }
      case SINGLE -> {
        if (members.size() != 1) {
          throw TorusExceptions.invalid(
              "a single ring needs exactly one peer, got " + members.size());
        }
        yield single(version, members.get(0));
      }
      case MOD -> mod(version, replication, members);
      default -> throw TorusExceptions.notSupported("ring type " + type.cliName() + " is not available yet");
    };
  }
}
