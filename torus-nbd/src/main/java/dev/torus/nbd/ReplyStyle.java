package dev.torus.nbd;

/** How a connection frames its replies, as negotiated in the handshake. */
enum ReplyStyle {
  /** Simple replies only: what clients that negotiated nothing (the Linux kernel) expect. */
  SIMPLE,
  /** {@code NBD_OPT_STRUCTURED_REPLY}: chunks for reads, errors and block status. */
  STRUCTURED,
  /** {@code NBD_OPT_EXTENDED_HEADERS}: 32-byte requests and replies, every reply a chunk. */
  EXTENDED
}
