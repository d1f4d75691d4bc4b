package dev.torus.transport.tcp;

import dev.torus.PeerId;
import dev.torus.transport.PeerTransport;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.PeerTransportContract;
import java.util.concurrent.ForkJoinPool;

/** The transport contract over TCP on loopback. */
final class TcpPeerTransportTest implements PeerTransportContract {
  @Override
  public PeerTransport newTransport(PeerId self, int blockSize, PeerTransportConfig config) {
    return TcpPeerTransport.create(self, blockSize, config, ForkJoinPool.commonPool());
  }
}
