package dev.torus.volume;

import java.util.ArrayList;
import java.util.List;

/** A run of consecutive data blocks with the same allocation state. */
record Run(long start, long count, boolean hole) {
  long end() {
    return start + count;
  }

  /** Appends a run, merging it into the previous one when they touch and match. */
  static void append(List<Run> runs, long start, long count, boolean hole) {
    if (!runs.isEmpty()) {
      Run last = runs.get(runs.size() - 1);
      if (last.hole == hole && last.end() == start) {
        runs.set(runs.size() - 1, new Run(last.start, last.count + count, hole));
        return;
      }
    }
    runs.add(new Run(start, count, hole));
  }

  /**
   * Completes sorted, non-overlapping data runs into a cover of {@code [from, to)}: clips them and
   * fills the gaps with holes.
   */
  static List<Run> fill(List<Run> data, long from, long to) {
    List<Run> out = new ArrayList<>();
    long at = from;
    for (Run r : data) {
      long s = Math.max(r.start, from);
      long e = Math.min(r.end(), to);
      if (e <= s) {
        continue;
      }
      if (s > at) {
        append(out, at, s - at, true);
      }
      append(out, s, e - s, r.hole);
      at = e;
    }
    if (at < to) {
      append(out, at, to - at, true);
    }
    return out;
  }
}
