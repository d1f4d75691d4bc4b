package dev.torus.nbd;

import static dev.torus.nbd.Wire.concat;
import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.nbd.HandshakeDecoder.ClientFlags;
import dev.torus.nbd.HandshakeDecoder.Option;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(NoLeaks.class)
final class HandshakeDecoderTest {
  /** Client flags: FIXED_NEWSTYLE | NO_ZEROES. */
  static final byte[] FLAGS = hex("00000003");
  /** NBD_OPT_STRUCTURED_REPLY, no data. */
  static final byte[] STRUCTURED_REPLY = hex("49484156454f5054 | 00000008 | 00000000");
  /** NBD_OPT_GO for export "disk" with no information requests. */
  static final byte[] GO = hex("49484156454f5054 | 00000007 | 0000000a | 00000004 6469736b 0000");

  private final EmbeddedChannel channel = new EmbeddedChannel(new HandshakeDecoder());
  private List<Object> decoded = List.of();

  @AfterEach
  void release() {
    decoded.forEach(o -> {
      if (o instanceof Option option) {
        ReferenceCountUtil.release(option.data());
      }
    });
    channel.finishAndReleaseAll();
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 3, 7, 1000})
  void decodesFlagsThenOptionsWholeOrInChunks(int chunk) {
    decoded = Wire.feed(channel, concat(FLAGS, STRUCTURED_REPLY, GO), chunk);

    assertThat(decoded).hasSize(3);
    assertThat(decoded.get(0)).isEqualTo(new ClientFlags(3));
    Option sr = (Option) decoded.get(1);
    assertThat(sr.code()).isEqualTo(8);
    assertThat(sr.data().readableBytes()).isZero();
    Option go = (Option) decoded.get(2);
    assertThat(go.code()).isEqualTo(7);
    assertThat(ByteBufUtil.getBytes(go.data())).isEqualTo(hex("00000004 6469736b 0000"));
  }

  @Test
  void twoOptionsInOneBufferAfterFlagsInAnother() {
    Wire.feed(channel, FLAGS, 4).clear();

    decoded = Wire.feed(channel, concat(GO, STRUCTURED_REPLY), 1000);

    assertThat(decoded).extracting(o -> ((Option) o).code()).containsExactly(7, 8);
  }

  @Test
  void truncatedOptionWaitsForTheRest() {
    byte[] input = concat(FLAGS, GO);
    decoded = Wire.feed(channel, Arrays.copyOf(input, input.length - 1), 1000);
    assertThat(decoded).hasSize(1);

    List<Object> rest = Wire.feed(channel, new byte[] {0}, 1);
    decoded = rest;
    assertThat(rest).hasSize(1);
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1000, 65536})
  void skipsOversizedDataWithoutBufferingAndKeepsParsing(int chunk) {
    int length = HandshakeDecoder.MAX_OPTION_DATA + 1;
    byte[] big = concat(hex("49484156454f5054 | 00000063 | 00010001"), new byte[length]);

    decoded = Wire.feed(channel, concat(FLAGS, big, STRUCTURED_REPLY), chunk);

    assertThat(decoded).hasSize(3);
    Option skipped = (Option) decoded.get(1);
    assertThat(skipped.code()).isEqualTo(0x63);
    assertThat(skipped.data()).isNull();
    assertThat(skipped.length()).isEqualTo(length);
    assertThat(((Option) decoded.get(2)).code()).isEqualTo(8);
  }

  @Test
  void badOptionMagicFailsTheChannel() {
    Wire.feed(channel, FLAGS, 4).clear();

    assertThatThrownBy(() -> Wire.feed(channel, hex("49484156454f5055 00000008 00000000"), 16))
        .isInstanceOf(CorruptedFrameException.class);
  }
}
