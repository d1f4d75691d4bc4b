package dev.torus.ring;

import dev.torus.BlockRef;
import java.util.List;

/**
 * Maps a block to its ordered replica peers. Immutable and thread-safe; a change produces a new
 * ring whose {@link #version()} is one higher.
 */
public interface Ring {
  /** The kind of ring. */
  RingType type();

  /** Version, starting at 1; each change adds one. */
  long version();

  /** How many copies of each block the ring asks for (before clamping to the member count). */
  int replication();

  /** Members in their stored order. */
  List<RingMember> members();

  /**
   * The peers for a block. Fails with {@code UNAVAILABLE} when the ring has no members (the empty
   * ring).
   */
  PeerPermutation peersFor(BlockRef ref);

  /** This ring with peers added, version + 1. Fails with {@code NOT_SUPPORTED} for fixed kinds. */
  Ring withMembers(List<RingMember> added);

  /** This ring without some peers, version + 1. Fails with {@code NOT_SUPPORTED} for fixed kinds. */
  Ring withoutMembers(List<dev.torus.PeerId> removed);

  /** This ring with another replication factor, version + 1. */
  Ring withReplication(int replication);

  /** A multi-line human description for {@code torusctl ring get}. */
  String describe();
}
