package dev.torus.nbd;

import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_DF;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_FAST_ZERO;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_FUA;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_NO_HOLE;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_REQ_ONE;

import org.jspecify.annotations.Nullable;

/** Transmission request types ({@code NBD_CMD_*}) with their wire codes. */
enum NbdCommand {
  /** {@code NBD_CMD_READ}; DF is only valid once structured replies are on. */
  READ(0, NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_DF),
  /** {@code NBD_CMD_WRITE}: the only command with a payload. */
  WRITE(1, NBD_CMD_FLAG_FUA),
  /** {@code NBD_CMD_DISC}: no reply. */
  DISC(2, 0xffff),
  /** {@code NBD_CMD_FLUSH}. */
  FLUSH(3, NBD_CMD_FLAG_FUA),
  /** {@code NBD_CMD_TRIM}. */
  TRIM(4, NBD_CMD_FLAG_FUA),
  /** {@code NBD_CMD_CACHE}: a prefetch hint. */
  CACHE(5, NBD_CMD_FLAG_FUA),
  /** {@code NBD_CMD_WRITE_ZEROES}. */
  WRITE_ZEROES(6, NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO),
  /** {@code NBD_CMD_BLOCK_STATUS}. */
  BLOCK_STATUS(7, NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE);

  private final int code;
  private final int allowedFlags;

  NbdCommand(int code, int allowedFlags) {
    this.code = code;
    this.allowedFlags = allowedFlags;
  }

  /** The request type on the wire. */
  int code() {
    return code;
  }

  /**
   * Command flags the spec documents for this command. FUA is valid on every command once
   * advertised (clients are known to set it on reads), so it is accepted everywhere.
   */
  int allowedFlags() {
    return allowedFlags;
  }

  /** The command for a wire type, or null for a type this server does not know. */
  static @Nullable NbdCommand fromCode(int code) {
    for (NbdCommand c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }
}
