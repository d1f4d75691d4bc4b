package dev.torus.metadata;

import dev.torus.PeerId;
import java.time.Instant;
import java.util.Objects;

/**
 * A storage node's heartbeat record.
 *
 * @param address where peers reach it, e.g. {@code tcp://10.0.0.5:40000}; empty for clients
 * @param lastSeen when the node last wrote this record
 * @param rebalancing whether the node is moving blocks after a ring change
 */
public record PeerInfo(
    PeerId id, String address, Instant lastSeen, long capacityBlocks, long usedBlocks,
    int protocolVersion, boolean rebalancing) {
  public PeerInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(lastSeen, "lastSeen");
  }
}
