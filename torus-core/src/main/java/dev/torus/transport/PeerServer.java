package dev.torus.transport;

import java.net.InetSocketAddress;

/**
 * A running server that answers peers' calls with a {@link PeerService}; made by {@link
 * PeerTransport#serve}. Thread-safe.
 */
public interface PeerServer extends AutoCloseable {
  /** The address actually bound; the real port when port 0 was asked for. */
  InetSocketAddress boundAddress();

  /**
   * The address peers dial, built from {@link #boundAddress()}. A server bound to a wildcard
   * address ({@code 0.0.0.0}) must advertise a routable host name instead.
   */
  PeerAddress address();

  /**
   * Stops accepting calls and closes the open connections; calls in flight on them fail at their
   * callers. Does not close the service. Idempotent.
   */
  @Override
  void close();
}
