package dev.torus;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Root of every Torus failure. Unchecked; {@link #code()} is stable and maps onto wire error
 * codes, NBD errno values and CLI exit codes. Create instances through {@link TorusExceptions}.
 */
public class TorusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  /** An exception with a code and a message that tells the user what to do. */
  public TorusException(ErrorCode code, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** An exception without a cause. */
  public TorusException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /** The stable failure code. */
  public final ErrorCode code() {
    return code;
  }
}
