package dev.torus.nbd;

import dev.torus.volume.BlockDevice;

/**
 * What one connection serves once it enters transmission.
 *
 * @param name the export's canonical name (for logs)
 * @param device the opened device
 * @param flags the transmission flags sent to the client ({@link #transmissionFlags})
 * @param style how replies are framed
 * @param blockStatus whether the client selected {@code base:allocation}, so BLOCK_STATUS is valid
 * @param maxPayload largest READ or WRITE
 * @param release called once, on the event loop, after the connection ended and every request it
 *     started completed: gives the device back (the server closes it, off the event loop)
 */
record Export(
    String name,
    BlockDevice device,
    int flags,
    ReplyStyle style,
    boolean blockStatus,
    int maxPayload,
    Runnable release) {

  boolean readOnly() {
    return (flags & NbdProtocol.NBD_FLAG_READ_ONLY) != 0;
  }

  /**
   * The transmission flags for an export: every command this server implements, minus the
   * writing ones for a read-only export; DF only once structured replies make it meaningful;
   * multi-conn only when the export says flushes are coherent across connections.
   */
  static int transmissionFlags(boolean readOnly, boolean multiConn, ReplyStyle style) {
    int flags =
        NbdProtocol.NBD_FLAG_HAS_FLAGS
            | NbdProtocol.NBD_FLAG_SEND_FLUSH
            | NbdProtocol.NBD_FLAG_SEND_FUA
            | NbdProtocol.NBD_FLAG_SEND_CACHE;
    flags |=
        readOnly
            ? NbdProtocol.NBD_FLAG_READ_ONLY
            : NbdProtocol.NBD_FLAG_SEND_TRIM
                | NbdProtocol.NBD_FLAG_SEND_WRITE_ZEROES
                | NbdProtocol.NBD_FLAG_SEND_FAST_ZERO;
    if (style != ReplyStyle.SIMPLE) {
      flags |= NbdProtocol.NBD_FLAG_SEND_DF;
    }
    if (multiConn) {
      flags |= NbdProtocol.NBD_FLAG_CAN_MULTI_CONN;
    }
    return flags;
  }
}
