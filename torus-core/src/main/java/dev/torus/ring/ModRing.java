package dev.torus.ring;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The first replica is {@code CRC-32(ref bytes) mod n} in the stored member order, the rest follow
 * it round the list. Compatible with the Go original's mod ring. Moves most blocks when a member
 * is added or removed, so it suits small fixed clusters and tests.
 */
final class ModRing implements Ring {
  private final long version;
  private final int replication;
  private final List<RingMember> members;
  private final List<PeerId> peers;

  ModRing(long version, int replication, List<RingMember> members) {
    if (version < 1) {
      throw new IllegalArgumentException("ring version < 1");
    }
    if (replication < 1) {
      throw TorusExceptions.invalid("replication must be at least 1, got " + replication);
    }
    Set<PeerId> seen = new LinkedHashSet<>();
    for (RingMember m : members) {
      if (!seen.add(m.peer())) {
        throw TorusExceptions.invalid("peer " + m.peer() + " is in the ring twice");
      }
    }
    this.version = version;
    this.replication = replication;
    this.members = List.copyOf(members);
    this.peers = List.copyOf(seen);
  }

  @Override
  public RingType type() {
    return RingType.MOD;
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public int replication() {
    return replication;
  }

  @Override
  public List<RingMember> members() {
    return members;
  }

  @Override
  public PeerPermutation peersFor(BlockRef ref) {
    int n = peers.size();
    if (n == 0) {
      throw TorusExceptions.unavailable("the ring has no peers: add one with 'torusctl peer add'", null);
    }
    CRC32 crc = new CRC32();
    crc.update(ref.toBytes());
    int start = (int) (crc.getValue() % n);
    List<PeerId> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      order.add(peers.get((start + i) % n));
    }
    return new PeerPermutation(order, Math.min(replication, n));
  }

  @Override
  public Ring withMembers(List<RingMember> added) {
    List<RingMember> next = new ArrayList<>(members);
    for (RingMember m : added) {
      if (!peers.contains(m.peer())) {
        next.add(m);
      }
    }
    if (next.size() == members.size()) {
      throw new TorusException(ErrorCode.ALREADY_EXISTS, "every given peer is already in the ring");
    }
    return new ModRing(version + 1, replication, next);
  }

  @Override
  public Ring withoutMembers(List<PeerId> removed) {
    List<RingMember> next = new ArrayList<>(members);
    next.removeIf(m -> removed.contains(m.peer()));
    if (next.size() == members.size()) {
      throw new TorusException(ErrorCode.NOT_FOUND, "none of the given peers is in the ring");
    }
    return new ModRing(version + 1, replication, next);
  }

  @Override
  public Ring withReplication(int replication) {
    return new ModRing(version + 1, replication, members);
  }

  @Override
  public String describe() {
    StringBuilder sb = new StringBuilder("Ring: mod\nVersion: ").append(version)
        .append("\nReplication: ").append(replication).append("\nPeers:");
    for (RingMember m : members) {
      sb.append("\n\t").append(m.peer());
    }
    return sb.toString();
  }
}
