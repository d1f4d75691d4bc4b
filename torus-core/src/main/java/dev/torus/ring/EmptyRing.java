package dev.torus.ring;

import dev.torus.BlockRef;
import dev.torus.PeerId;
import dev.torus.TorusExceptions;
import java.util.List;

/** No peers; every placement fails with a message that says how to add one. */
final class EmptyRing implements Ring {
  private final long version;

  EmptyRing(long version) {
    if (version < 1) {
      throw new IllegalArgumentException("ring version < 1");
    }
    this.version = version;
  }

  @Override
  public RingType type() {
    return RingType.EMPTY;
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public int replication() {
    return 0;
  }

  @Override
  public List<RingMember> members() {
    return List.of();
  }

  @Override
  public PeerPermutation peersFor(BlockRef ref) {
    throw TorusExceptions.unavailable(
        "the ring has no peers: start torusd with --auto-join or run 'torusctl peer add'", null);
  }

  @Override
  public Ring withMembers(List<RingMember> added) {
    throw TorusExceptions.notSupported("the empty ring cannot take peers; set a mod or ketama ring");
  }

  @Override
  public Ring withoutMembers(List<PeerId> removed) {
    throw TorusExceptions.notSupported("the empty ring has no peers to remove");
  }

  @Override
  public Ring withReplication(int replication) {
    throw TorusExceptions.notSupported("the empty ring has no replication");
  }

  @Override
  public String describe() {
    return "Ring: empty\nVersion: " + version;
  }
}
