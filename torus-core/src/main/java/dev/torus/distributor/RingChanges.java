package dev.torus.distributor;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.CompareFailedException;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.metadata.RingMetadata;
import dev.torus.metadata.Versioned;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Ring changes as compare-and-swap loops: read the ring, derive the next one, write it if nobody
 * changed it meanwhile, else start over from the new ring. Each change is a pure function of the
 * ring it starts from, so redoing it is safe.
 */
public final class RingChanges {
  private static final int MAX_ATTEMPTS = 20;

  private RingChanges() {}

  /** Adds members; fails with {@code ALREADY_EXISTS} if all are members already. */
  public static Ring addPeers(RingMetadata rings, List<RingMember> members) {
    return change(rings, ring -> ring.withMembers(members));
  }

  /** Removes members; fails with {@code NOT_FOUND} if none is a member. */
  public static Ring removePeers(RingMetadata rings, List<PeerId> peers) {
    return change(rings, ring -> ring.withoutMembers(peers));
  }

  /** Sets the replication factor (at least 1). */
  public static Ring setReplication(RingMetadata rings, int replication) {
    if (replication < 1) {
      throw new TorusException(ErrorCode.INVALID_ARGUMENT,
          "replication must be at least 1, got " + replication);
    }
    return change(rings, ring -> ring.withReplication(replication));
  }

  /** Applies {@code next} to the current ring until the compare-and-swap lands. */
  public static Ring change(RingMetadata rings, UnaryOperator<Ring> next) {
    for (int attempt = 1; ; attempt++) {
      Versioned<Ring> current = join(rings.current());
      Ring changed = next.apply(current.value());
      try {
        return join(rings.compareAndSet(changed, current.revision())).value();
      } catch (CompareFailedException e) {
        if (attempt >= MAX_ATTEMPTS) {
          throw e;
        }
      }
    }
  }
}
