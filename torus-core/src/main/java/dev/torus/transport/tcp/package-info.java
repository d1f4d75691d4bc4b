/**
 * The peer protocol over TCP on Netty: {@link dev.torus.transport.tcp.TcpPeerTransport}. The wire
 * format is specified in {@code docs/peer-protocol.md}. The only package of torus-core that uses
 * {@code io.netty.channel}.
 */
@NullMarked
package dev.torus.transport.tcp;

import org.jspecify.annotations.NullMarked;
