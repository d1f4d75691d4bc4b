package dev.torus.transport;

import dev.torus.PeerId;

/**
 * The calls of one remote peer's {@link PeerService}, made over a {@link PeerTransport}.
 *
 * <p>Thread-safe; calls may be made from any thread and many may be in flight at once. Every call
 * has the deadline its kind has in {@link PeerTransportConfig} and fails with {@code TIMEOUT} when
 * it passes; {@code UNAVAILABLE} (naming the peer's address) when the peer cannot be reached;
 * {@code CLOSED} after {@link #close()}; or with the code and message the peer's service failed
 * with.
 */
public interface PeerClient extends PeerService, AutoCloseable {
  /** The peer this client calls. */
  PeerId peer();

  /** Where the peer is reached. */
  PeerAddress address();

  /**
   * Fails the calls in flight with {@code CLOSED} and releases this client's connections;
   * idempotent. The transport forgets the client, so a later {@link PeerTransport#client} for the
   * same peer makes a new one.
   */
  @Override
  void close();
}
