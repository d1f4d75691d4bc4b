package dev.torus;

/**
 * Stable failure codes. The numbers appear on the peer wire, in CLI exit codes and in logs, so they
 * never change meaning; never decode by {@code ordinal()}.
 */
public enum ErrorCode {
  /** The named volume, snapshot, block or key does not exist. */
  NOT_FOUND(1),
  /** Something with that name or key already exists. */
  ALREADY_EXISTS(2),
  /** A compare-and-swap lost: another writer changed the value first. */
  COMPARE_FAILED(3),
  /** A peer, the metadata service or a block is unreachable right now; retrying may help. */
  UNAVAILABLE(4),
  /** The store or the file system under it has no room left. */
  OUT_OF_SPACE(5),
  /** The object was closed. */
  CLOSED(6),
  /** The caller passed a malformed or out-of-range argument. */
  INVALID_ARGUMENT(7),
  /** The volume is open for writing elsewhere, or this writer lost its lock. */
  LOCKED(8),
  /** The operation is not supported by this implementation or configuration. */
  NOT_SUPPORTED(9),
  /** The calling thread was interrupted. */
  INTERRUPTED(10),
  /** A bug or an unexpected failure. */
  INTERNAL(11),
  /** Stored bytes failed their checksum: the data is damaged and was not returned. */
  CORRUPTED(12),
  /** The cluster metadata has not been initialised ({@code torusctl init}). */
  NOT_INITIALIZED(13),
  /** A deadline passed before the operation completed. */
  TIMEOUT(14),
  /** A write was attempted on something opened read-only. */
  READ_ONLY(15),
  /** A peer spoke a protocol version or frame this node does not understand. */
  PROTOCOL(16);

  private final int wire;

  ErrorCode(int wire) {
    this.wire = wire;
  }

  /** The stable numeric form used on the wire and in exit codes. */
  public int wire() {
    return wire;
  }

  /** The code for a wire number; unknown numbers map to {@link #INTERNAL}. */
  public static ErrorCode fromWire(int wire) {
    for (ErrorCode code : values()) {
      if (code.wire == wire) {
        return code;
      }
    }
    return INTERNAL;
  }
}
