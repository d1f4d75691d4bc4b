package dev.torus.transport;

import dev.torus.PeerId;
import java.net.InetSocketAddress;

/**
 * How one node reaches another (Go: {@code distributor/protocols.RPC}). Implementations: {@code
 * LocalTransport} (in-process) and {@code TcpPeerTransport} (the binary peer protocol).
 *
 * <p>Thread-safe. Lifecycle: a transport is ready when made; {@link #close()} closes every client
 * and server it made and then releases its threads. After close, {@link #client} and {@link
 * #serve} fail with {@code CLOSED}.
 */
public interface PeerTransport extends AutoCloseable {
  /**
   * The client for peer {@code id} at {@code address} (e.g. {@code tcp://10.0.0.5:40000}), cached
   * per peer: the same object until it is closed or the peer's address changes (the old client is
   * then closed). Connecting is lazy, so this never blocks and never fails for an unreachable peer;
   * calls do.
   *
   * @throws dev.torus.TorusException {@code INVALID_ARGUMENT} if the address does not parse, has
   *     port 0 or names a scheme this transport does not speak; {@code CLOSED} after {@link
   *     #close()}
   */
  PeerClient client(PeerId id, String address);

  /**
   * Starts serving {@code service} on {@code bind}; port 0 picks a free port, reported by {@link
   * PeerServer#boundAddress()}. Blocks until bound.
   *
   * @throws dev.torus.TorusException {@code UNAVAILABLE} if the address cannot be bound; {@code
   *     CLOSED} after {@link #close()}
   */
  PeerServer serve(InetSocketAddress bind, PeerService service);

  /** Closes every client and server made by this transport, then its threads; idempotent. */
  @Override
  void close();
}
