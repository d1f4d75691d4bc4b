package dev.torus.volume;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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

  /**
   * Lays single-block states over sorted runs (an open volume's uncommitted blocks over its
   * committed map: {@code true} is a hole) and fills the cover of {@code [from, to)}.
   */
  static List<Run> overlay(List<Run> runs, TreeMap<Long, Boolean> blocks, long from, long to) {
    if (blocks.isEmpty()) {
      return runs;
    }
    List<Run> out = new ArrayList<>();
    for (Run r : runs) {
      long at = r.start;
      for (Map.Entry<Long, Boolean> e : blocks.subMap(r.start, r.end()).entrySet()) {
        if (e.getKey() > at) {
          append(out, at, e.getKey() - at, r.hole);
        }
        append(out, e.getKey(), 1, e.getValue());
        at = e.getKey() + 1;
      }
      if (at < r.end()) {
        append(out, at, r.end() - at, r.hole);
      }
    }
    return fill(out, from, to);
  }

  /** Byte extents of block runs, clipped to {@code [from, to)} in bytes. */
  static List<Extent> toExtents(List<Run> runs, int blockSize, long from, long to) {
    List<Extent> out = new ArrayList<>(runs.size());
    for (Run r : runs) {
      long s = Math.max(from, r.start * blockSize);
      long e = Math.min(to, r.end() * blockSize);
      if (e > s) {
        out.add(new Extent(s, e - s, r.hole));
      }
    }
    return out;
  }
}
