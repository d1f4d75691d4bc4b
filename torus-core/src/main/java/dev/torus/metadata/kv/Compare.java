package dev.torus.metadata.kv;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One condition of a {@link Txn}, with etcd's semantics: a missing key has version, create and mod
 * revision 0 and no value (so a value comparison on a missing key is false).
 */
public record Compare(String key, Target target, Op op, long number, byte @Nullable [] value) {
  /** What of the key is compared. */
  public enum Target {
    VERSION,
    CREATE_REVISION,
    MOD_REVISION,
    VALUE
  }

  /** How. */
  public enum Op {
    EQUAL,
    NOT_EQUAL,
    GREATER,
    LESS
  }

  public Compare {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(op, "op");
    if ((target == Target.VALUE) != (value != null)) {
      throw new IllegalArgumentException("value compares take bytes, the others a number");
    }
  }

  /** The key does not exist. */
  public static Compare absent(String key) {
    return new Compare(key, Target.VERSION, Op.EQUAL, 0, null);
  }

  /** The key exists. */
  public static Compare present(String key) {
    return new Compare(key, Target.VERSION, Op.GREATER, 0, null);
  }

  /** The key was last written at {@code revision} (0 = the key does not exist). */
  public static Compare modRevision(String key, long revision) {
    return new Compare(key, Target.MOD_REVISION, Op.EQUAL, revision, null);
  }

  /** The key holds exactly these bytes. */
  public static Compare valueEquals(String key, byte[] value) {
    return new Compare(key, Target.VALUE, Op.EQUAL, 0, value.clone());
  }

  /** Evaluates this condition against a key's current state ({@code null} if absent). */
  public boolean test(@Nullable KeyValue kv) {
    if (target == Target.VALUE) {
      if (kv == null) {
        return false;
      }
      int c = Arrays.compareUnsigned(kv.value(), value); // etcd compares bytes unsigned
      return apply(c);
    }
    long actual = switch (target) {
      case VERSION -> kv == null ? 0 : kv.version();
      case CREATE_REVISION -> kv == null ? 0 : kv.createRevision();
      case MOD_REVISION -> kv == null ? 0 : kv.modRevision();
      case VALUE -> throw new AssertionError();
    };
    return apply(Long.compare(actual, number));
  }

  private boolean apply(int c) {
    return switch (op) {
      case EQUAL -> c == 0;
      case NOT_EQUAL -> c != 0;
      case GREATER -> c > 0;
      case LESS -> c < 0;
    };
  }
}
