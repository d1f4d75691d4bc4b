package dev.torus.server.options;

import dev.torus.ErrorCode;

/**
 * Process exit codes. 0 is success, 2 a usage error (wrong arguments); a Torus failure exits with
 * 10 plus its stable {@link ErrorCode#wire()} number, so scripts can tell "not found" (11) from
 * "locked" (18) or "not initialised" (23); anything else is 1.
 */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;

  private ExitCodes() {}

  /** The exit code for a Torus failure. */
  public static int of(ErrorCode code) {
    return 10 + code.wire();
  }
}
