package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.torus.volume.Extent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The allocation map as read segments and as block status descriptors. */
@ExtendWith(NoLeaks.class)
final class SegmentsAndExtentsTest {
  private static ByteBuf data(int length) {
    ByteBuf b = Unpooled.buffer(length);
    for (int i = 0; i < length; i++) {
      b.writeByte(i);
    }
    return b;
  }

  @Test
  void readsSplitAlongHolesAndSliceTheData() {
    ByteBuf buf = data(300);
    List<NbdReply.Segment> segments = ReadSegments.split(buf, 1000, 300, List.of(
        new Extent(900, 200, false), new Extent(1100, 100, true), new Extent(1200, 500, false)));

    assertThat(segments).extracting(NbdReply.Segment::offset, NbdReply.Segment::length)
        .containsExactly(
            tuple(1000L, 100),
            tuple(1100L, 100),
            tuple(1200L, 100));
    assertThat(segments.get(1).data()).isNull();
    assertThat(ByteBufUtil.getBytes(segments.get(2).data())[0]).isEqualTo((byte) 200);
    new NbdReply.Read(1, 1000, segments).discard();
    assertThat(buf.refCnt()).isZero();
  }

  @Test
  void readsWithoutHolesOrWithABrokenMapStayOneSegment() {
    ByteBuf buf = data(10);
    assertThat(ReadSegments.split(buf, 0, 10, List.of(new Extent(0, 10, false))))
        .containsExactly(new NbdReply.Segment(0, 10, buf));
    assertThat(ReadSegments.split(buf, 0, 10, List.of(new Extent(0, 4, true))))
        .hasSize(1); // does not cover the read
    assertThat(ReadSegments.split(buf, 0, 10, null)).hasSize(1);
    buf.release();
  }

  @Test
  void statusMergesEqualRunsAndFlagsHolesAsZero() {
    List<NbdReply.StatusExtent> status = StatusExtents.of(0, 400, List.of(
        new Extent(0, 100, true), new Extent(100, 100, true), new Extent(200, 300, false)), 10);

    assertThat(status).containsExactly(
        new NbdReply.StatusExtent(200, 3), new NbdReply.StatusExtent(200, 0));
  }

  @Test
  void statusStopsAtTheLimitAndFallsBackToTheSafeAnswer() {
    List<Extent> alternating = List.of(new Extent(0, 10, true), new Extent(10, 10, false),
        new Extent(20, 10, true));

    assertThat(StatusExtents.of(0, 30, alternating, 1))
        .containsExactly(new NbdReply.StatusExtent(10, 3));
    assertThat(StatusExtents.of(5, 30, List.of(new Extent(10, 25, true)), 10))
        .containsExactly(new NbdReply.StatusExtent(30, 0));
  }
}
