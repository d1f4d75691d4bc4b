package dev.torus.nbd;

import dev.torus.volume.Extent;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Splits read data into data and hole segments along the device's allocation map. */
final class ReadSegments {
  private ReadSegments() {}

  /**
   * Segments for {@code length} bytes read at {@code offset}. Takes ownership of {@code data}: data
   * segments are slices of it, holes drop their part. Without holes, or when {@code extents} is
   * missing or does not cover the range, the whole buffer is one data segment.
   */
  static List<NbdReply.Segment> split(
      ByteBuf data, long offset, int length, @Nullable List<Extent> extents) {
    long end = offset + length;
    if (extents == null
        || !covers(extents, offset, end)
        || extents.stream().noneMatch(Extent::hole)) {
      return List.of(new NbdReply.Segment(offset, length, data));
    }
    List<NbdReply.Segment> segments = new ArrayList<>(extents.size());
    for (Extent e : extents) {
      long start = Math.max(e.offset(), offset);
      long stop = Math.min(e.end(), end);
      if (stop <= start) {
        continue;
      }
      int n = (int) (stop - start);
      ByteBuf part = e.hole() ? null : data.retainedSlice(data.readerIndex() + (int) (start - offset), n);
      segments.add(new NbdReply.Segment(start, n, part));
    }
    data.release();
    return segments;
  }

  /** Whether the extents are contiguous and span [offset, end). */
  private static boolean covers(List<Extent> extents, long offset, long end) {
    long position = offset;
    for (Extent e : extents) {
      if (e.offset() > position) {
        return false;
      }
      position = Math.max(position, e.end());
    }
    return !extents.isEmpty() && extents.get(0).offset() <= offset && position >= end;
  }
}
