package dev.torus.gc;

import dev.torus.BlockRef;
import dev.torus.INodeRef;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The set of reachable block refs, compact because refs of one write session are numbered densely
 * from 1: one bit per index per session. Thread-safe.
 */
final class LiveSet {
  private final Map<INodeRef, BitSet> bits = new HashMap<>();
  private final Set<BlockRef> overflow = new HashSet<>();
  private long size;

  /** Adds a ref; returns false if it was already present. */
  synchronized boolean add(BlockRef ref) {
    if (ref.index() > Integer.MAX_VALUE) {
      boolean added = overflow.add(ref);
      size += added ? 1 : 0;
      return added;
    }
    BitSet set = bits.computeIfAbsent(ref.session(), s -> new BitSet());
    int i = (int) ref.index();
    if (set.get(i)) {
      return false;
    }
    set.set(i);
    size++;
    return true;
  }

  synchronized boolean contains(BlockRef ref) {
    if (ref.index() > Integer.MAX_VALUE) {
      return overflow.contains(ref);
    }
    BitSet set = bits.get(ref.session());
    return set != null && set.get((int) ref.index());
  }

  synchronized long size() {
    return size;
  }
}
