package dev.torus.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.VolumeId;
import dev.torus.transport.LeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The frame layout byte by byte, and the decoder fed whole, in chunks and back to back. */
@ExtendWith(LeakCheck.class)
final class FrameCodecTest {
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
  private static final BlockRef REF = new BlockRef(new VolumeId(3), 7, 1, BlockType.MAP);

  /** GET, request id 7, of volume 3 / inode 7 / index 1, type MAP (1 in bits 40..63). */
  private static final String GET_FRAME = "5450" + "01" + "10" + "07000000" + "18000000"
      + "0300000000010000" + "0700000000000000" + "0100000000000000";

  /** HELLO: versions 1..1, 4096-byte blocks, node "n1". */
  private static final String HELLO_FRAME = "5450" + "01" + "01" + "00000000" + "0b000000"
      + "0100" + "0100" + "00100000" + "02" + "6e31";

  /** PUT, id 2, of the 9-byte block "123456789", whose CRC-32C is the check value e3069283. */
  private static final String PUT_FRAME = "5450" + "01" + "11" + "02000000" + "25000000"
      + "0300000000010000" + "0700000000000000" + "0100000000000000" + "839206e3"
      + "313233343536373839";

  /** ERROR, id 9, NOT_FOUND (1), "gone". */
  private static final String ERROR_FRAME = "5450" + "01" + "ff" + "09000000" + "0a000000"
      + "01000000" + "0400" + "676f6e65";

  @Test
  void encodersWriteTheDocumentedBytes() {
    assertBytes(Protocol.ref(ALLOC, MessageType.GET, 7, REF), GET_FRAME);
    assertBytes(Protocol.hello(ALLOC, MessageType.HELLO,
        new Protocol.Hello(1, 1, 4096, new PeerId("n1"))), HELLO_FRAME);
    assertBytes(Protocol.put(ALLOC, 2, REF, buf("313233343536373839")), PUT_FRAME);
    assertBytes(Protocol.error(ALLOC, 9, ErrorCode.NOT_FOUND, "gone"), ERROR_FRAME);
    assertBytes(Protocol.empty(ALLOC, MessageType.FLUSH, 5), "5450011405000000" + "00000000");
  }

  @Test
  void aRequestIdIsSetWhenTheFrameIsSent() {
    ByteBuf frame = Protocol.put(ALLOC, 0, REF, buf("313233343536373839"));
    Protocol.setRequestId(frame, 2);
    assertBytes(frame, PUT_FRAME);
  }

  @Test
  void decodesAWholeFrame() {
    List<Frame> frames = decode(List.of(GET_FRAME));
    assertThat(frames).hasSize(1);
    Frame get = frames.get(0);
    assertThat(get.type()).isEqualTo(MessageType.GET);
    assertThat(get.requestId()).isEqualTo(7);
    assertThat(Protocol.readRefBody(get.content(), MessageType.GET)).isEqualTo(REF);
    release(frames);
  }

  @Test
  void decodesAFrameFedOneByteAtATime() {
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < PUT_FRAME.length(); i += 2) {
      chunks.add(PUT_FRAME.substring(i, i + 2));
    }
    List<Frame> frames = decode(chunks);
    assertThat(frames).hasSize(1);
    assertThat(Protocol.readPut(frames.get(0).content(), 9)).isEqualTo(REF);
    assertThat(Protocol.putData(frames.get(0).content()).toString(StandardCharsets.US_ASCII))
        .isEqualTo("123456789");
    release(frames);
  }

  @Test
  void decodesTwoFramesInOneBufferAndSplitsAcrossBuffers() {
    String both = HELLO_FRAME + ERROR_FRAME + GET_FRAME;
    List<Frame> frames = decode(List.of(both.substring(0, 30), both.substring(30, 70),
        both.substring(70)));
    assertThat(frames).extracting(Frame::type)
        .containsExactly(MessageType.HELLO, MessageType.ERROR, MessageType.GET);
    assertThat(Protocol.readHello(frames.get(0).content()))
        .isEqualTo(new Protocol.Hello(1, 1, 4096, new PeerId("n1")));
    TorusException error = Protocol.readError(frames.get(1).content());
    assertThat(error.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(error.getMessage()).isEqualTo("gone");
    release(frames);
  }

  @Test
  void badMagicIsRefusedAtItsFirstByteAndTheRestIsDropped() {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20));
    assertThatThrownBy(() -> ch.writeInbound(buf("47")))
        .isInstanceOf(DecoderException.class)
        .cause().isInstanceOfSatisfying(TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL);
          assertThat(e.getMessage()).contains("bad magic");
        });
    assertThat(ch.writeInbound(buf(GET_FRAME))).as("frames after a violation").isFalse();
    ch.finishAndReleaseAll();
  }

  @Test
  void anUnsupportedVersionIsRefused() {
    assertViolation("545002", "unsupported protocol version 2");
    assertViolation("545000", "unsupported protocol version 0");
  }

  @Test
  void anOversizedBodyIsRefusedBeforeItArrives() {
    assertViolation("5450011101000000" + "f0ffffff", "exceeds the limit");
  }

  @Test
  void bodiesAreCheckedAgainstTheirType() {
    ByteBuf put = buf(PUT_FRAME.substring(24));
    assertThatThrownBy(() -> Protocol.readPut(put, 8)).isInstanceOfSatisfying(
        TorusException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL));
    put.setByte(put.readerIndex() + 30, '0');
    assertThatThrownBy(() -> Protocol.readPut(put, 9)).isInstanceOfSatisfying(
        TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
          assertThat(e.getMessage()).contains("CRC-32C");
        });
    put.release();
    ByteBuf nullRef = buf("00".repeat(24));
    assertThatThrownBy(() -> Protocol.readRefBody(nullRef, MessageType.GET))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL));
    nullRef.release();
  }

  @Test
  void bitsetsAreLeastSignificantBitFirst() {
    BitSet bits = new BitSet();
    bits.set(0);
    bits.set(9);
    ByteBuf frame = Protocol.bitset(ALLOC, 1, bits, 12);
    assertThat(ByteBufUtil.hexDump(frame)).isEqualTo("5450019201000000" + "06000000"
        + "0c000000" + "0102");
    frame.skipBytes(Protocol.HEADER_BYTES);
    assertThat(Protocol.readBitset(frame, 12)).isEqualTo(bits);
    assertThatThrownBy(() -> Protocol.readBitset(frame, 13)).isInstanceOf(TorusException.class);
    frame.release();
  }

  @Test
  void errorsKeepTheirCodeAndBoundTheirMessage() {
    ByteBuf unknown = buf("63000000" + "0000");
    assertThat(Protocol.readError(unknown).code()).isEqualTo(ErrorCode.INTERNAL);
    unknown.release();
    ByteBuf longError = Protocol.error(ALLOC, 1, ErrorCode.LOCKED, "x".repeat(5000));
    longError.skipBytes(Protocol.HEADER_BYTES);
    TorusException e = Protocol.readError(longError);
    assertThat(e.code()).isEqualTo(ErrorCode.LOCKED);
    assertThat(e.getMessage()).hasSize(Protocol.MAX_MESSAGE_CHARS);
    longError.release();
  }

  private static void assertViolation(String hex, String message) {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20));
    assertThatThrownBy(() -> ch.writeInbound(buf(hex)))
        .cause().isInstanceOfSatisfying(TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL);
          assertThat(e.getMessage()).contains(message);
        });
    ch.finishAndReleaseAll();
  }

  private static List<Frame> decode(List<String> chunks) {
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20));
    for (String chunk : chunks) {
      ch.writeInbound(buf(chunk));
    }
    List<Frame> frames = new ArrayList<>();
    Frame f;
    while ((f = ch.readInbound()) != null) {
      frames.add(f);
    }
    assertThat(ch.finish()).isFalse();
    return frames;
  }

  private static void release(List<Frame> frames) {
    frames.forEach(Frame::release);
  }

  private static ByteBuf buf(String hex) {
    byte[] bytes = ByteBufUtil.decodeHexDump(hex);
    return ALLOC.buffer(bytes.length).writeBytes(bytes);
  }

  private static void assertBytes(ByteBuf frame, String hex) {
    try {
      assertThat(ByteBufUtil.hexDump(frame)).isEqualTo(hex);
    } finally {
      frame.release();
    }
  }
}
