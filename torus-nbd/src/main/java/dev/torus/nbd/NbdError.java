package dev.torus.nbd;

import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import org.jspecify.annotations.Nullable;

/**
 * Error values of transmission replies ({@code NBD_E*}). The spec fixes the numbers (they happen
 * to match Linux errno), so they are wire codes, not host errno values.
 */
enum NbdError {
  /** {@code NBD_EPERM}: write, trim or zeroing on a read-only export. */
  EPERM(1),
  /** {@code NBD_EIO}: the device failed. */
  EIO(5),
  /** {@code NBD_EINVAL}: unknown command or flag, bad range for read/trim/status, too long. */
  EINVAL(22),
  /** {@code NBD_ENOSPC}: write or zeroing beyond the end, or storage full. */
  ENOSPC(28),
  /** {@code NBD_EOVERFLOW}: a DF read too long to send in one chunk. */
  EOVERFLOW(75),
  /** {@code NBD_ENOTSUP}: only for FAST_ZERO requests that would not be fast. */
  ENOTSUP(95),
  /** {@code NBD_ESHUTDOWN}: the server or the export is closing; the client should disconnect. */
  ESHUTDOWN(108);

  private final int code;

  NbdError(int code) {
    this.code = code;
  }

  /** The value in the reply's error field. */
  int code() {
    return code;
  }

  /** The error for a wire value, or null for a value the spec does not define. */
  static @Nullable NbdError fromCode(int code) {
    for (NbdError e : values()) {
      if (e.code == code) {
        return e;
      }
    }
    return null;
  }

  /**
   * The one mapping from a device failure to an NBD error. Range and argument problems are the
   * client's fault (EINVAL); full storage is ENOSPC; read-only is EPERM; a closed device means the
   * export is going away (ESHUTDOWN, so the client disconnects softly); anything else, including
   * corruption, lost locks and unreachable peers, is an I/O error.
   */
  static NbdError from(Throwable failure) {
    TorusException e = TorusExceptions.unwrap(failure);
    return switch (e.code()) {
      case INVALID_ARGUMENT, NOT_SUPPORTED -> EINVAL;
      case OUT_OF_SPACE -> ENOSPC;
      case READ_ONLY -> EPERM;
      case CLOSED -> ESHUTDOWN;
      default -> EIO;
    };
  }
}
