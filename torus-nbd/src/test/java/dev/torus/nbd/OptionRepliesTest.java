package dev.torus.nbd;

import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What the server sends during the handshake, byte for byte. */
@ExtendWith(NoLeaks.class)
final class OptionRepliesTest {
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
  private static final String MAGIC = "0003e889045565a9";

  private static byte[] bytes(ByteBuf buf) {
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  @Test
  void greeting() {
    assertThat(bytes(OptionReplies.greeting(ALLOC)))
        .isEqualTo(hex("4e42444d41474943 49484156454f5054 0003"));
  }

  @Test
  void ackAndErrorReplies() {
    assertThat(bytes(OptionReplies.ack(ALLOC, 7))).isEqualTo(hex(MAGIC + "00000007 00000001 00000000"));
    assertThat(bytes(OptionReplies.error(ALLOC, 99, NbdProtocol.NBD_REP_ERR_UNSUP, "no")))
        .isEqualTo(hex(MAGIC + "00000063 80000001 00000002 6e6f"));
  }

  @Test
  void longErrorMessagesAreCutOnACharacterBoundary() {
    ByteBuf reply = OptionReplies.error(ALLOC, 1, NbdProtocol.NBD_REP_ERR_INVALID,
        "a" + "é".repeat(300));

    assertThat(reply.getInt(16)).isEqualTo(255); // 'a' + 127 two-byte characters
    reply.release();
  }

  @Test
  void serverReplyCarriesNameThenDescription() {
    assertThat(bytes(OptionReplies.server(ALLOC, "disk", "d")))
        .isEqualTo(hex(MAGIC + "00000003 00000002 00000009 | 00000004 6469736b 64"));
  }

  @Test
  void infoReplies() {
    assertThat(bytes(OptionReplies.infoExport(ALLOC, 7, 0x1000000, 0x0d6d)))
        .isEqualTo(hex(MAGIC + "00000007 00000003 0000000c | 0000 0000000001000000 0d6d"));
    assertThat(bytes(OptionReplies.infoString(ALLOC, 6, NbdProtocol.NBD_INFO_NAME, "ab")))
        .isEqualTo(hex(MAGIC + "00000006 00000003 00000004 | 0001 6162"));
    assertThat(bytes(OptionReplies.infoBlockSize(ALLOC, 7, 1, 4096, 0x2000000)))
        .isEqualTo(hex(MAGIC + "00000007 00000003 0000000e | 0003 00000001 00001000 02000000"));
  }

  @Test
  void metaContextReply() {
    assertThat(bytes(OptionReplies.metaContext(ALLOC, 10, 1, "base:allocation")))
        .isEqualTo(hex(MAGIC + "0000000a 00000004 00000013 | 00000001"
            + "626173653a616c6c6f636174696f6e"));
  }

  @Test
  void exportNameReplyIsPaddedUnlessNoZeroes() {
    assertThat(bytes(OptionReplies.exportName(ALLOC, 512, 0x0001, true)))
        .isEqualTo(hex("0000000000000200 0001"));
    assertThat(bytes(OptionReplies.exportName(ALLOC, 512, 0x0001, false)))
        .hasSize(134).endsWith(new byte[124]);
  }
}
