package dev.torus.nbd;

import static dev.torus.nbd.Wire.concat;
import static dev.torus.storage.Blocks.address;
import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.storage.BlockRunAllocator;
import dev.torus.storage.BlockRunAllocator.BlockRun;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;
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

  private static final int BLOCK = 4096;
  /** A WRITE at 1000: 3,096 bytes up to the first whole block, two whole blocks, 1,500 after. */
  private static final long SPAN_OFFSET = 1000;
  private static final int SPAN = 3096 + 2 * BLOCK + 1500;

  /** Stands for the device's allocator: whole blocks must arrive in its buffers. */
  private final ByteBufAllocator blocks = new UnpooledByteBufAllocator(true);
  private RequestDecoder decoder = decoder(false);
  private EmbeddedChannel channel = new EmbeddedChannel(decoder);
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
    channel = new EmbeddedChannel(decoder(true));

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
    channel = new EmbeddedChannel(decoder(true));

    assertThatThrownBy(() -> Wire.feed(channel, concat(READ, new byte[4]), 1000))
        .isInstanceOf(CorruptedFrameException.class);
  }

  @Test
  void extendedPayloadBeyond2To63FailsTheChannel() {
    channel = new EmbeddedChannel(decoder(true));

    assertThatThrownBy(() -> Wire.feed(channel,
        hex("21e41c71 0020 0001 0000000000000003 0000000000000000 8000000000000000"), 1000))
        .isInstanceOf(CorruptedFrameException.class);
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 1000, 5000, 100_000})
  void wholeBlocksOfAPayloadArriveInTheDevicesBuffers(int chunk) {
    byte[] data = random(SPAN);

    decoded = Wire.feed(channel, concat(writeHeader(SPAN_OFFSET, SPAN), data, READ), chunk);

    assertThat(decoded).hasSize(2);
    ByteBuf payload = ((NbdRequest) decoded.get(0)).payload();
    assertThat(ByteBufUtil.getBytes(payload)).isEqualTo(data);
    assertThat(wholeBlockStarts(payload)).containsExactly(3096, 3096 + BLOCK);
    assertThat(((NbdRequest) decoded.get(0)).blockCrcs())
        .containsExactly(crc(data, 3096), crc(data, 3096 + BLOCK));
    assertThat(((NbdRequest) decoded.get(1)).type()).isZero();
  }

  @ParameterizedTest(name = "reads of up to {0} bytes")
  @ValueSource(ints = {1, 700, 4096})
  void socketReadsFillTheLentRestOfTheBlockInPlace(int readSize) {
    byte[] stream = concat(writeHeader(SPAN_OFFSET, SPAN), random(SPAN));
    int pos = NbdProtocol.REQUEST_SIZE + 10;
    channel.writeInbound(Unpooled.wrappedBuffer(stream, 0, pos));
    int lentReads = 0;
    while (pos < stream.length) { // what a socket read loop does with RequestDecoder.receiveBuffer
      ByteBuf lent = decoder.receiveBuffer();
      int n = Math.min(readSize, stream.length - pos);
      if (lent != null) {
        n = Math.min(n, lent.writableBytes());
        lent.writeBytes(stream, pos, n);
        lentReads++;
      }
      channel.writeInbound(lent != null ? lent : Unpooled.wrappedBuffer(stream, pos, n));
      pos += n;
    }
    decoded = Wire.feed(channel, new byte[0], 1);

    assertThat(lentReads).isPositive();
    ByteBuf payload = ((NbdRequest) decoded.get(0)).payload();
    assertThat(ByteBufUtil.getBytes(payload))
        .isEqualTo(Arrays.copyOfRange(stream, NbdProtocol.REQUEST_SIZE, stream.length));
    assertThat(wholeBlockStarts(payload)).containsExactly(3096, 3096 + BLOCK);
    byte[] data = ByteBufUtil.getBytes(payload);
    assertThat(((NbdRequest) decoded.get(0)).blockCrcs()).as("checksums taken in place")
        .containsExactly(crc(data, 3096), crc(data, 3096 + BLOCK));
    assertThat(decoder.receiveBuffer()).as("between requests").isNull();
  }

  @ParameterizedTest(name = "reads of up to {0} bytes")
  @ValueSource(ints = {1, 700, 4096, 20_000})
  void smallBlocksAreReadThroughTheConnectionsReadBuffer(int readSize) {
    channel = new EmbeddedChannel(decoder = new RequestDecoder(false, MAX_PAYLOAD, BLOCK, blocks,
        3 * BLOCK));
    int span = 3096 + 5 * BLOCK + 1500; // five whole blocks: two reads of the read buffer or more
    byte[] stream = concat(writeHeader(SPAN_OFFSET, span), random(span), READ);
    int pos = NbdProtocol.REQUEST_SIZE + 10;
    channel.writeInbound(Unpooled.wrappedBuffer(stream, 0, pos));
    int wholeEnd = NbdProtocol.REQUEST_SIZE + 3096 + 5 * BLOCK; // stream index
    List<Long> readBuffers = new ArrayList<>();
    while (pos < stream.length) {
      ByteBuf lent = decoder.receiveBuffer();
      int n = Math.min(readSize, stream.length - pos);
      if (lent != null) {
        assertThat(Wire.root(lent).alloc()).as("not a block").isNotSameAs(blocks);
        assertThat(lent.writableBytes()).as("whole blocks' bytes only, at most the read buffer")
            .isEqualTo(Math.min(3 * BLOCK, wholeEnd - pos));
        readBuffers.add(address(lent));
        n = Math.min(n, lent.writableBytes());
        lent.writeBytes(stream, pos, n);
      }
      channel.writeInbound(lent != null ? lent : Unpooled.wrappedBuffer(stream, pos, n));
      pos += n;
    }
    decoded = Wire.feed(channel, new byte[0], 1);

    assertThat(readBuffers).as("reads through the read buffer").isNotEmpty();
    assertThat(Set.copyOf(readBuffers)).as("one buffer, used again and again").hasSize(1);
    assertThat(decoded).hasSize(2);
    ByteBuf payload = ((NbdRequest) decoded.get(0)).payload();
    assertThat(ByteBufUtil.getBytes(payload)).isEqualTo(
        Arrays.copyOfRange(stream, NbdProtocol.REQUEST_SIZE, NbdProtocol.REQUEST_SIZE + span));
    assertThat(wholeBlockStarts(payload)).as("the blocks are the device's buffers")
        .containsExactly(3096, 3096 + BLOCK, 3096 + 2 * BLOCK, 3096 + 3 * BLOCK,
            3096 + 4 * BLOCK);
    byte[] data = ByteBufUtil.getBytes(payload);
    assertThat(((NbdRequest) decoded.get(0)).blockCrcs()).as("checksums taken on the way through")
        .containsExactly(crc(data, 3096), crc(data, 3096 + BLOCK), crc(data, 3096 + 2 * BLOCK),
            crc(data, 3096 + 3 * BLOCK), crc(data, 3096 + 4 * BLOCK));
    assertThat(((NbdRequest) decoded.get(1)).type()).isZero();
  }

  @ParameterizedTest(name = "reads of up to {0} bytes")
  @ValueSource(ints = {1, 700, 4096, 20_000})
  void socketReadsFillRunsOfAdjacentBlocksInPlace(int readSize) {
    try (BlockStore store = BlockStores.inMemory(BLOCK, 64)) {
      ByteBufAllocator runs = store.allocator();
      channel = new EmbeddedChannel(decoder = new RequestDecoder(false, MAX_PAYLOAD, BLOCK, runs,
          3 * BLOCK)); // runs of up to three blocks
      int span = 3096 + 5 * BLOCK + 1500;
      byte[] stream = concat(writeHeader(SPAN_OFFSET, span), random(span), READ);
      int pos = NbdProtocol.REQUEST_SIZE + 10;
      channel.writeInbound(Unpooled.wrappedBuffer(stream, 0, pos));
      int wholeStart = NbdProtocol.REQUEST_SIZE + 3096; // stream indexes
      int wholeEnd = wholeStart + 5 * BLOCK;
      Map<Integer, Long> readAddresses = new TreeMap<>(); // stream index to where it was read
      while (pos < stream.length) {
        ByteBuf lent = decoder.receiveBuffer();
        int n = Math.min(readSize, stream.length - pos);
        if (lent != null) {
          int runEnd = wholeStart + ((pos - wholeStart) / (3 * BLOCK) + 1) * 3 * BLOCK;
          assertThat(lent.writableBytes()).as("the rest of the run at %d", pos)
              .isEqualTo(Math.min(runEnd, wholeEnd) - pos);
          readAddresses.put(pos, address(lent));
          n = Math.min(n, lent.writableBytes());
          lent.writeBytes(stream, pos, n);
        }
        channel.writeInbound(lent != null ? lent : Unpooled.wrappedBuffer(stream, pos, n));
        pos += n;
      }
      decoded = Wire.feed(channel, new byte[0], 1);

      ByteBuf payload = ((NbdRequest) decoded.get(0)).payload();
      assertThat(ByteBufUtil.getBytes(payload)).isEqualTo(
          Arrays.copyOfRange(stream, NbdProtocol.REQUEST_SIZE, NbdProtocol.REQUEST_SIZE + span));
      List<Integer> starts = wholeBlockStarts(payload, runs);
      assertThat(starts).as("the blocks are the device's buffers").containsExactly(3096,
          3096 + BLOCK, 3096 + 2 * BLOCK, 3096 + 3 * BLOCK, 3096 + 4 * BLOCK);
      CompositeByteBuf parts = (CompositeByteBuf) payload;
      assertThat(readAddresses).as("reads into the runs").isNotEmpty();
      readAddresses.forEach((at, address) -> {
        int inPayload = at - NbdProtocol.REQUEST_SIZE;
        ByteBuf block = parts.component(parts.toComponentIndex(inPayload));
        assertThat(address).as("the read at %d went into its block", at)
            .isEqualTo(address(block) + (inPayload - 3096) % BLOCK);
      });
      byte[] data = ByteBufUtil.getBytes(payload);
      assertThat(((NbdRequest) decoded.get(0)).blockCrcs()).as("checksums taken in place")
          .containsExactly(crc(data, 3096), crc(data, 3096 + BLOCK), crc(data, 3096 + 2 * BLOCK),
              crc(data, 3096 + 3 * BLOCK), crc(data, 3096 + 4 * BLOCK));
      assertThat(((NbdRequest) decoded.get(1)).type()).isZero();
      release();
      decoded = List.of();
    }
  }

  @Test
  void runsTooShortForAReadOfTheirOwnAreFilledThroughTheReadBuffer() {
    try (BlockStore store = BlockStores.inMemory(BLOCK, 64)) {
      ByteBufAllocator runs = store.allocator();
      List<ByteBuf> held = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        ByteBuf b = runs.directBuffer(BLOCK, BLOCK);
        if (i % 2 == 0) {
          held.add(b);
        } else {
          b.release(); // free blocks, none next to another: runs of one
        }
      }
      channel = new EmbeddedChannel(decoder = new RequestDecoder(false, MAX_PAYLOAD, BLOCK, runs,
          16 * BLOCK));
      int span = 5 * BLOCK;
      byte[] data = random(span);
      channel.writeInbound(Unpooled.wrappedBuffer(writeHeader(0, span)));
      Set<Long> readBuffers = new HashSet<>();
      for (int pos = 0; pos < span; pos += BLOCK) {
        ByteBuf lent = decoder.receiveBuffer();
        assertThat(lent).isNotNull();
        assertThat(lent.writableBytes()).as("the read buffer, not one block")
            .isEqualTo(span - pos);
        readBuffers.add(address(lent));
        channel.writeInbound(lent.writeBytes(data, pos, BLOCK));
      }
      decoded = Wire.feed(channel, new byte[0], 1);

      assertThat(readBuffers).as("one read buffer").hasSize(1);
      ByteBuf payload = ((NbdRequest) decoded.get(0)).payload();
      assertThat(ByteBufUtil.getBytes(payload)).isEqualTo(data);
      assertThat(wholeBlockStarts(payload, runs)).hasSize(5);
      release();
      decoded = List.of();
      held.forEach(ByteBuf::release);
    }
  }

  @Test
  void aLentBufferThatGotNothingIsTakenBack() {
    byte[] data = random(SPAN);
    channel.writeInbound(Unpooled.wrappedBuffer(concat(writeHeader(SPAN_OFFSET, SPAN),
        Arrays.copyOf(data, 5000))));
    ByteBuf lent = decoder.receiveBuffer();
    assertThat(lent).isNotNull();
    lent.release(); // a read that found the socket empty

    decoded = Wire.feed(channel, Arrays.copyOfRange(data, 5000, SPAN), 3000);

    assertThat(ByteBufUtil.getBytes(((NbdRequest) decoded.get(0)).payload())).isEqualTo(data);
  }

  @Test
  void shortAndUnalignedPayloadsAreNotLentBlocks() {
    decoded = Wire.feed(channel, hex("25609513 0000 0001 0000000000000001 0000000000000010 00001000"), 1);

    assertThat(decoder.receiveBuffer()).as("4 KiB at 16: no whole block").isNull();
    decoded = Wire.feed(channel, new byte[BLOCK], 1000);
    assertThat(wholeBlockStarts(((NbdRequest) decoded.get(0)).payload())).isEmpty();
    assertThat(((NbdRequest) decoded.get(0)).blockCrcs()).as("none taken").isNull();
  }

  @Test
  void aConnectionClosedMidPayloadReleasesWhatItHeld() {
    byte[] data = random(SPAN);

    decoded = Wire.feed(channel, concat(writeHeader(SPAN_OFFSET, SPAN),
        Arrays.copyOf(data, 5000)), 1000);
    channel.finishAndReleaseAll(); // NoLeaks fails the test if the partial block or slices leaked

    assertThat(decoded).isEmpty();
  }

  @Test
  void aConnectionClosedMidRunGivesItsBlocksBack() {
    try (BlockStore store = BlockStores.inMemory(BLOCK, 64)) {
      BlockRunAllocator runs = (BlockRunAllocator) store.allocator();
      channel = new EmbeddedChannel(decoder = new RequestDecoder(false, MAX_PAYLOAD, BLOCK, runs,
          8 * BLOCK));
      decoded = Wire.feed(channel, concat(writeHeader(0, 5 * BLOCK), random(5000)), 1000);
      channel.finishAndReleaseAll();

      BlockRun all = runs.allocateRun(64);
      assertThat(all.blocks()).as("the payload's five blocks are free again: the chunk is whole")
          .hasSize(64);
      all.view().release();
      all.blocks().forEach(ByteBuf::release);
    }
  }

  /** Blocks no smaller than a socket read: reads go straight into them. */
  private RequestDecoder decoder(boolean extended) {
    return decoder = new RequestDecoder(extended, MAX_PAYLOAD, BLOCK, blocks, BLOCK);
  }

  private static byte[] writeHeader(long offset, int length) {
    return hex(String.format("25609513 0000 0001 0000000000000007 %016x %08x", offset, length));
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private static int crc(byte[] data, int blockStart) {
    CRC32C crc = new CRC32C();
    crc.update(data, blockStart, BLOCK);
    return (int) crc.getValue();
  }

  /** Payload offsets of the components that are whole buffers from {@link #blocks}. */
  private List<Integer> wholeBlockStarts(ByteBuf payload) {
    return wholeBlockStarts(payload, blocks);
  }

  /** Payload offsets of the components that are whole buffers from {@code blocks}. */
  private static List<Integer> wholeBlockStarts(ByteBuf payload, ByteBufAllocator blocks) {
    List<Integer> starts = new ArrayList<>();
    if (payload instanceof CompositeByteBuf c) {
      for (int i = 0; i < c.numComponents(); i++) {
        ByteBuf part = c.component(i);
        ByteBuf root = Wire.root(part);
        if (root.alloc() == blocks && root.capacity() == BLOCK && part.readableBytes() == BLOCK) {
          starts.add(c.toByteIndex(i));
        }
      }
    }
    return starts;
  }
}
