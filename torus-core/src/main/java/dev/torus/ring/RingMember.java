package dev.torus.ring;

import dev.torus.PeerId;
import java.util.Objects;

/**
 * A peer as a ring sees it: its identity and the capacity that weights it.
 *
 * @param capacityBlocks the peer's capacity when it joined the ring; weights ketama placement
 */
public record RingMember(PeerId peer, long capacityBlocks) {
  public RingMember {
    Objects.requireNonNull(peer, "peer");
    if (capacityBlocks < 0) {
      throw new IllegalArgumentException("capacityBlocks < 0");
    }
  }
}
