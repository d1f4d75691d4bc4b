package dev.torus.transport.local;

import dev.torus.PeerId;
import dev.torus.transport.PeerTransport;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.PeerTransportContract;

/** The transport contract over the in-process transport; every node shares one network. */
final class LocalTransportTest implements PeerTransportContract {
  private LocalTransport network;

  @Override
  public PeerTransport newTransport(PeerId self, int blockSize, PeerTransportConfig config) {
    if (network == null) {
      network = LocalTransport.create(config);
    }
    return network;
  }
}
