package dev.torus.gc;

import java.util.Optional;

/**
 * What one garbage collection cycle did.
 *
 * @param skipped why the cycle deleted nothing on purpose (metadata or a map unreadable); empty if
 *     it ran
 * @param scanned blocks in the local store
 * @param live blocks reachable from some volume, snapshot or clone
 * @param candidates unreachable blocks seen for the first time, kept until the grace period passes
 * @param deleted blocks deleted
 */
public record GcResult(Optional<String> skipped, long scanned, long live, long candidates, long deleted) {
  static GcResult skipped(String reason) {
    return new GcResult(Optional.of(reason), 0, 0, 0, 0);
  }
}
