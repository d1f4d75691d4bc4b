/**
 * How one storage node reaches another: the peer transport SPI.
 *
 * <p>{@link dev.torus.transport.PeerTransport} connects to peers ({@link
 * dev.torus.transport.PeerClient}) and serves this node's {@link dev.torus.transport.PeerService}
 * to them ({@link dev.torus.transport.PeerServer}). Two implementations: {@code
 * dev.torus.transport.local.LocalTransport} (in-process, with failure hooks, for tests and single
 * process clusters) and {@code dev.torus.transport.tcp.TcpPeerTransport} (the binary peer protocol
 * over TCP, described in {@code docs/peer-protocol.md}). Both pass one contract suite.
 *
 * <p>Every call returns a {@link java.util.concurrent.CompletableFuture} and follows the {@link
 * dev.torus.storage.BlockStore} buffer-ownership rules. Every call has a deadline ({@link
 * dev.torus.transport.PeerTransportConfig}); failures are {@link dev.torus.TorusException}s with a
 * stable {@link dev.torus.ErrorCode}.
 */
@NullMarked
package dev.torus.transport;

import org.jspecify.annotations.NullMarked;
