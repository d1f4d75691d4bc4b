package dev.torus.nbd;

import dev.torus.volume.Extent;
import java.util.ArrayList;
import java.util.List;

/** Turns the device's allocation map into {@code base:allocation} block status descriptors. */
final class StatusExtents {
  private StatusExtents() {}

  /**
   * Descriptors for [offset, offset + span): holes read as zero ({@code NBD_STATE_HOLE |
   * NBD_STATE_ZERO}), data is 0; runs with equal flags merge; at most {@code max} descriptors. An
   * allocation map that does not start at {@code offset} yields one descriptor with status 0 over
   * the span, which the spec calls always safe; one with a gap ends at the gap (a shorter answer
   * is allowed, and clients ask again).
   */
  static List<NbdReply.StatusExtent> of(long offset, long span, List<Extent> extents, int max) {
    List<NbdReply.StatusExtent> out = new ArrayList<>();
    long position = offset;
    long end = offset + span;
    for (Extent e : extents) {
      if (e.end() <= position) {
        continue;
      }
      if (e.offset() > position || position >= end) {
        break;
      }
      long n = Math.min(e.end(), end) - position;
      int flags = e.hole() ? NbdProtocol.NBD_STATE_HOLE | NbdProtocol.NBD_STATE_ZERO : 0;
      int last = out.size() - 1;
      if (last >= 0 && out.get(last).flags() == flags) {
        out.set(last, new NbdReply.StatusExtent(out.get(last).length() + n, flags));
      } else if (out.size() == max) {
        break;
      } else {
        out.add(new NbdReply.StatusExtent(n, flags));
      }
      position += n;
    }
    if (out.isEmpty()) {
      out.add(new NbdReply.StatusExtent(span, 0));
    }
    return out;
  }
}
