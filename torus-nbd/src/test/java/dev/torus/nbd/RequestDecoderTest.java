package dev.torus.nbd;

import static dev.torus.nbd.Wire.concat;
import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(NoLeaks.class)
final class RequestDecoderTest {
  private static final int MAX_PAYLOAD = 65536;

  /** READ, FUA, cookie 0102030405060708, offset 0x1000, length 0x200. */
  static final byte[] READ =
      hex("25609513 | 0001 | 0000 | 0102030405060708 | 0000000000001000 | 00000200");
  /** WRITE, cookie 1, offset 0, 4 bytes: deadbeef. */
  static final byte[] WRITE =
      hex("25609513 | 0000 | 0001 | 0000000000000001 | 0000000000000000 | 00000004 | deadbeef");
  /** DISC. */
  static final byte[] DISC =
      hex("25609513 | 0000 | 0002 | 0000000000000002 | 0000000000000000 | 00000000");
  /** Extended WRITE with PAYLOAD_LEN, cookie 3, offset 0x10, payload 0a0b. */
  static final byte[] EXT_WRITE =
      hex("21e41c71 | 0020 | 0001 | 0000000000000003 | 0000000000000010 | 0000000000000002 | 0a0b");
  /** Extended TRIM of 2^33 bytes (a 64-bit effect length). */
  static final byte[] EXT_TRIM =
      hex("21e41c71 | 0000 | 0004 | 0000000000000004 | 0000000000000000 | 0000000200000000");

  private EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(false, MAX_PAYLOAD));
  private List<Object> decoded = List.of();

  @AfterEach
  void release() {
    decoded.forEach(o -> ReferenceCountUtil.release(((NbdRequest) o).payload()));
    channel.finishAndReleaseAll();
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 5, 28, 1000})
  void decodesRequestsAndWritePayloadsWholeOrInChunks(int chunk) {
    decoded = Wire.feed(channel, concat(READ, WRITE), chunk);

    assertThat(decoded).hasSize(2);
    NbdRequest read = (NbdRequest) decoded.get(0);
    assertThat(read).isEqualTo(new NbdRequest(1, 0, 0x0102030405060708L, 0x1000, 0x200, null));
    NbdRequest write = (NbdRequest) decoded.get(1);
    assertThat(write.type()).isEqualTo(1);
    assertThat(write.length()).isEqualTo(4);
    assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(hex("deadbeef"));
  }

  @Test
  void twoRequestsInOneBuffer() {
    decoded = Wire.feed(channel, concat(WRITE, READ), 1000);

    assertThat(decoded).extracting(o -> ((NbdRequest) o).type()).containsExactly(1, 0);
  }

  @Test
  void offsetAndLengthStayUnsigned() {
    decoded = Wire.feed(channel,
        hex("25609513 0000 0000 0000000000000001 ffffffffffffffff ffffffff"), 1000);

    NbdRequest r = (NbdRequest) decoded.get(0);
    assertThat(r.offset()).isEqualTo(-1L); // 2^64 - 1: out of range, never wrapped into range
    assertThat(r.length()).isEqualTo(0xffffffffL);
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1000, 16384})
  void skipsAnOversizedWritePayloadAndStaysInSync(int chunk) {
    int length = MAX_PAYLOAD + 1;
    byte[] big = concat(
        hex("25609513 0000 0001 0000000000000009 0000000000000000"),
        hex(String.format("%08x", length)), new byte[length]);

    decoded = Wire.feed(channel, concat(big, READ), chunk);

    assertThat(decoded).hasSize(2);
    NbdRequest skipped = (NbdRequest) decoded.get(0);
    assertThat(skipped.cookie()).isEqualTo(9);
    assertThat(skipped.payload()).isNull();
    assertThat(skipped.length()).isEqualTo(length);
    assertThat(((NbdRequest) decoded.get(1)).type()).isZero();
  }

  @Test
  void ignoresEverythingAfterDisc() {
    decoded = Wire.feed(channel, concat(DISC, READ, hex("0badf00d")), 1000);

    assertThat(decoded).hasSize(1);
    assertThat(((NbdRequest) decoded.get(0)).type()).isEqualTo(2);
  }

  @Test
  void zeroLengthWriteHasNoPayload() {
    decoded = Wire.feed(channel,
        hex("25609513 0000 0001 0000000000000005 0000000000000000 00000000"), 1000);

    assertThat(((NbdRequest) decoded.get(0)).payload()).isNull();
  }

  @Test
  void badMagicFailsTheChannel() {
    assertThatThrownBy(() -> Wire.feed(channel,
        hex("25609514 0000 0000 0000000000000001 0000000000000000 00000200"), 1000))
        .isInstanceOf(CorruptedFrameException.class);
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 32, 1000})
  void extendedHeadersCarry64BitLengthsAndPayloadLen(int chunk) {
    channel = new EmbeddedChannel(new RequestDecoder(true, MAX_PAYLOAD));

    decoded = Wire.feed(channel, concat(EXT_WRITE, EXT_TRIM), chunk);

    NbdRequest write = (NbdRequest) decoded.get(0);
    assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(hex("0a0b"));
    assertThat(write.offset()).isEqualTo(0x10);
    NbdRequest trim = (NbdRequest) decoded.get(1);
    assertThat(trim.length()).isEqualTo(1L << 33);
    assertThat(trim.payload()).isNull();
  }

  @Test
  void extendedRequestsNeedTheExtendedMagic() {
    channel = new EmbeddedChannel(new RequestDecoder(true, MAX_PAYLOAD));

    assertThatThrownBy(() -> Wire.feed(channel, concat(READ, new byte[4]), 1000))
        .isInstanceOf(CorruptedFrameException.class);
  }

  @Test
  void extendedPayloadBeyond2To63FailsTheChannel() {
    channel = new EmbeddedChannel(new RequestDecoder(true, MAX_PAYLOAD));

    assertThatThrownBy(() -> Wire.feed(channel,
        hex("21e41c71 0020 0001 0000000000000003 0000000000000000 8000000000000000"), 1000))
        .isInstanceOf(CorruptedFrameException.class);
  }
}
