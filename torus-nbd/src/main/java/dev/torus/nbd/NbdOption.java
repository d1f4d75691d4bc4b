package dev.torus.nbd;

import org.jspecify.annotations.Nullable;

/**
 * Handshake options ({@code NBD_OPT_*}) this server implements, with their wire codes. Any other
 * code (the withdrawn PEEK_EXPORT, future options) is answered with {@code NBD_REP_ERR_UNSUP} and
 * parsing goes on, as STARTTLS is by a server without TLS.
 */
enum NbdOption {
  /** {@code NBD_OPT_EXPORT_NAME}: old way into transmission; cannot report errors. */
  EXPORT_NAME(1),
  /** {@code NBD_OPT_ABORT}: soft disconnect during the handshake. */
  ABORT(2),
  /** {@code NBD_OPT_LIST}: one {@code NBD_REP_SERVER} per export. */
  LIST(3),
  /** {@code NBD_OPT_STARTTLS}: TLS on the same connection, negotiation starting afresh. */
  STARTTLS(5),
  /** {@code NBD_OPT_INFO}: describe one export without entering transmission. */
  INFO(6),
  /** {@code NBD_OPT_GO}: as INFO, then enter transmission. */
  GO(7),
  /** {@code NBD_OPT_STRUCTURED_REPLY}. */
  STRUCTURED_REPLY(8),
  /** {@code NBD_OPT_LIST_META_CONTEXT}. */
  LIST_META_CONTEXT(9),
  /** {@code NBD_OPT_SET_META_CONTEXT}. */
  SET_META_CONTEXT(10),
  /** {@code NBD_OPT_EXTENDED_HEADERS}: 32-byte headers, 64-bit lengths, no simple replies. */
  EXTENDED_HEADERS(11);

  private final int code;

  NbdOption(int code) {
    this.code = code;
  }

  /** The option code on the wire. */
  int code() {
    return code;
  }

  /** The option for a wire code, or null for one this server does not implement. */
  static @Nullable NbdOption fromCode(int code) {
    for (NbdOption o : values()) {
      if (o.code == code) {
        return o;
      }
    }
    return null;
  }
}
