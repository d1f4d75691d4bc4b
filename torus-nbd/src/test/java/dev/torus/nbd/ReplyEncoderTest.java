package dev.torus.nbd;

import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
final class ReplyEncoderTest {
  private static final long COOKIE = 0x0102030405060708L;
  private static final String C = "0102030405060708";

  private EmbeddedChannel channel;

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private byte[] encode(ReplyStyle style, NbdReply reply) {
    channel = new EmbeddedChannel(new ReplyEncoder(style));
    channel.writeOutbound(reply);
    return Wire.outbound(channel);
  }

  private static NbdReply.Read read(NbdReply.Segment... segments) {
    return new NbdReply.Read(COOKIE, 0x1000, List.of(segments));
  }

  private static NbdReply.Segment data(long offset, String hex) {
    ByteBuf b = Unpooled.wrappedBuffer(hex(hex));
    return new NbdReply.Segment(offset, b.readableBytes(), b);
  }

  @Test
  void simpleRepliesForSuccessErrorAndReadData() {
    assertThat(encode(ReplyStyle.SIMPLE, new NbdReply.Done(COOKIE, 0)))
        .isEqualTo(hex("67446698 00000000" + C));
    assertThat(encode(ReplyStyle.SIMPLE,
        new NbdReply.Failed(COOKIE, 0, NbdError.EINVAL, "ignored without structured replies")))
        .isEqualTo(hex("67446698 00000016" + C));
    assertThat(encode(ReplyStyle.SIMPLE, read(data(0x1000, "cafe"))))
        .isEqualTo(hex("67446698 00000000" + C + "cafe"));
  }

  @Test
  void simpleReadsSendHolesAsZeroes() {
    assertThat(encode(ReplyStyle.SIMPLE,
        read(data(0x1000, "aa"), new NbdReply.Segment(0x1001, 3, null))))
        .isEqualTo(hex("67446698 00000000" + C + "aa000000"));
  }

  @Test
  void structuredSuccessWithoutDataStaysSimple() {
    assertThat(encode(ReplyStyle.STRUCTURED, new NbdReply.Done(COOKIE, 0)))
        .isEqualTo(hex("67446698 00000000" + C));
  }

  @Test
  void structuredErrorChunkCarriesTheMessage() {
    assertThat(encode(ReplyStyle.STRUCTURED,
        new NbdReply.Failed(COOKIE, 0, NbdError.ENOSPC, "full")))
        .isEqualTo(hex("668e33ef 0001 8001" + C + "0000000a | 0000001c 0004 66756c6c"));
  }

  @Test
  void structuredReadSendsDataAndHoleChunksTheLastDone() {
    assertThat(encode(ReplyStyle.STRUCTURED,
        read(data(0x1000, "cafe"), new NbdReply.Segment(0x1002, 0x2000, null))))
        .isEqualTo(hex(
            "668e33ef 0000 0001" + C + "0000000a | 0000000000001000 cafe"
                + "668e33ef 0001 0002" + C + "0000000c | 0000000000001002 00002000"));
  }

  @Test
  void zeroLengthStructuredReadIsANoneChunk() {
    assertThat(encode(ReplyStyle.STRUCTURED, read()))
        .isEqualTo(hex("668e33ef 0001 0000" + C + "00000000"));
  }

  @Test
  void structuredBlockStatus() {
    NbdReply.Status status = new NbdReply.Status(COOKIE, 0, 1, List.of(
        new NbdReply.StatusExtent(0x1000, 3), new NbdReply.StatusExtent(0x2000, 0)));

    assertThat(encode(ReplyStyle.STRUCTURED, status))
        .isEqualTo(hex("668e33ef 0001 0005" + C + "00000014 | 00000001"
            + "00001000 00000003 00002000 00000000"));
  }

  @Test
  void extendedRepliesEchoTheOffsetAndNeverUseSimpleReplies() {
    assertThat(encode(ReplyStyle.EXTENDED, new NbdReply.Done(COOKIE, 0x4000)))
        .isEqualTo(hex("6e8a278c 0001 0000" + C + "0000000000004000 0000000000000000"));
    assertThat(encode(ReplyStyle.EXTENDED, new NbdReply.Failed(COOKIE, 0x4000,
        NbdError.EPERM, "")))
        .isEqualTo(hex("6e8a278c 0001 8001" + C + "0000000000004000 0000000000000006"
            + "00000001 0000"));
    assertThat(encode(ReplyStyle.EXTENDED, read(data(0x1000, "ab"))))
        .isEqualTo(hex("6e8a278c 0001 0001" + C + "0000000000001000 0000000000000009"
            + "0000000000001000 ab"));
  }

  @Test
  void extendedBlockStatusUses64BitDescriptors() {
    NbdReply.Status status = new NbdReply.Status(COOKIE, 0, 1, List.of(
        new NbdReply.StatusExtent(1L << 33, 3)));

    assertThat(encode(ReplyStyle.EXTENDED, status))
        .isEqualTo(hex("6e8a278c 0001 0006" + C + "0000000000000000 0000000000000018"
            + "00000001 00000001 | 0000000200000000 0000000000000003"));
  }
}
