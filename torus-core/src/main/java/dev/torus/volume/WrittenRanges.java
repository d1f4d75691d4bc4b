package dev.torus.volume;

import java.util.Arrays;

/**
 * The byte ranges of one block that writes filled while the block's old content was still being
 * read ({@link PendingBlock#written}): the old content fills only the gaps between them.
 *
 * <p>Ranges are kept sorted, disjoint and not touching; a block sees a handful of writes during
 * one read, so a flat array merged on each add is enough. Not thread-safe.
 */
final class WrittenRanges {
  /** Start and end (exclusive) of each range, in order. */
  private int[] bounds = new int[0];

  /** Records that bytes {@code start} (inclusive) to {@code end} (exclusive) were written. */
  void add(int start, int end) {
    if (start >= end) {
      return;
    }
    int[] merged = new int[bounds.length + 2];
    int n = 0;
    boolean placed = false;
    for (int i = 0; i < bounds.length; i += 2) {
      int s = bounds[i];
      int e = bounds[i + 1];
      if (e < start) {
        merged[n++] = s;
        merged[n++] = e;
      } else if (s > end) {
        if (!placed) {
          merged[n++] = start;
          merged[n++] = end;
          placed = true;
        }
        merged[n++] = s;
        merged[n++] = e;
      } else { // overlaps or touches: absorb it
        start = Math.min(start, s);
        end = Math.max(end, e);
      }
    }
    if (!placed) {
      merged[n++] = start;
      merged[n++] = end;
    }
    bounds = Arrays.copyOf(merged, n);
  }

  /** The written ranges, as start and end pairs in order. */
  int[] ranges() {
    return bounds.clone();
  }

  /** How many bytes {@code ranges}, start and end pairs, cover. */
  static int bytes(int[] ranges) {
    int bytes = 0;
    for (int i = 0; i < ranges.length; i += 2) {
      bytes += ranges[i + 1] - ranges[i];
    }
    return bytes;
  }

  /** The unwritten ranges of a block of {@code size} bytes, as start and end pairs in order. */
  int[] gaps(int size) {
    int[] gaps = new int[bounds.length + 2];
    int n = 0;
    int at = 0;
    for (int i = 0; i < bounds.length; i += 2) {
      if (bounds[i] > at) {
        gaps[n++] = at;
        gaps[n++] = bounds[i];
      }
      at = bounds[i + 1];
    }
    if (at < size) {
      gaps[n++] = at;
      gaps[n++] = size;
    }
    return Arrays.copyOf(gaps, n);
  }
}
