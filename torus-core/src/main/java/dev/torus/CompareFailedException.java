package dev.torus;

/**
 * A compare-and-swap lost: the value at {@code key} is no longer at the revision the caller read.
 * Never retried automatically; re-read and decide.
 */
public final class CompareFailedException extends TorusException {
  private static final long serialVersionUID = 1L;

  private final String key;
  private final long expectedRevision;
  private final long actualRevision;

  public CompareFailedException(String key, long expectedRevision, long actualRevision, String detail) {
    super(ErrorCode.COMPARE_FAILED, detail + " (" + key + ": expected revision " + expectedRevision
        + ", found " + actualRevision + "); re-read and retry");
    this.key = key;
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }

  /** The metadata key that moved. */
  public String key() {
    return key;
  }

  /** The revision the caller expected. */
  public long expectedRevision() {
    return expectedRevision;
  }

  /** The revision found (0 if the key is gone). */
  public long actualRevision() {
    return actualRevision;
  }
}
