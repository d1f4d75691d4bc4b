package dev.torus.ring;

import dev.torus.BlockRef;
import dev.torus.PeerId;
import dev.torus.TorusExceptions;
import java.util.List;
import java.util.Objects;

/** One peer holds every block: the single-host ring. */
final class SingleRing implements Ring {
  private final long version;
  private final RingMember member;
  private final PeerPermutation permutation;

  SingleRing(long version, RingMember member) {
    if (version < 1) {
      throw new IllegalArgumentException("ring version < 1");
    }
    this.version = version;
    this.member = Objects.requireNonNull(member, "member");
    this.permutation = new PeerPermutation(List.of(member.peer()), 1);
  }

  @Override
  public RingType type() {
    return RingType.SINGLE;
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public int replication() {
    return 1;
  }

  @Override
  public List<RingMember> members() {
    return List.of(member);
  }

  @Override
  public PeerPermutation peersFor(BlockRef ref) {
    return permutation;
  }

  @Override
  public Ring withMembers(List<RingMember> added) {
    throw TorusExceptions.notSupported(
        "a single ring holds exactly one peer; change to a mod or ketama ring to add peers");
  }

  @Override
  public Ring withoutMembers(List<PeerId> removed) {
    throw TorusExceptions.notSupported("a single ring cannot lose its only peer");
  }

  @Override
  public Ring withReplication(int replication) {
    throw TorusExceptions.notSupported("a single ring always has replication 1");
  }

  @Override
  public String describe() {
    return "Ring: single\nVersion: " + version + "\nPeer: " + member.peer();
  }
}
