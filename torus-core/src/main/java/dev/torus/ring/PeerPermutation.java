package dev.torus.ring;

import dev.torus.PeerId;
import java.util.List;

/**
 * Where one block lives: every ring member in preference order. The first {@code replication}
 * peers are the block's owners; the rest are where to look next when owners fail.
 */
public record PeerPermutation(List<PeerId> peers, int replication) {
  public PeerPermutation {
    peers = List.copyOf(peers);
    if (replication < 0 || replication > peers.size()) {
      throw new IllegalArgumentException(
          "replication " + replication + " out of range for " + peers.size() + " peers");
    }
  }

  /** The owners: the first {@code replication} peers. */
  public List<PeerId> owners() {
    return peers.subList(0, replication);
  }
}
