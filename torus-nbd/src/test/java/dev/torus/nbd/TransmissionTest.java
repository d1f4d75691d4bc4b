package dev.torus.nbd;

import static dev.torus.nbd.NbdTestClient.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.nbd.NbdTestClient.Descriptor;
import dev.torus.nbd.NbdTestClient.Reply;
import dev.torus.volume.ModelBlockDevice;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every command and flag, in every reply style, checked against the model device's contents. */
@ExtendWith(NoLeaks.class)
final class TransmissionTest {
  private static final byte[] NONE = new byte[0];
  private static final long SIZE = ServerFixture.SIZE;

  private final ServerFixture fixture = new ServerFixture();
  private final List<NbdTestClient> clients = new ArrayList<>();

  @AfterEach
  void close() {
    clients.forEach(NbdTestClient::close);
    fixture.close();
  }

  private NbdTestClient open(String export, Mode mode) {
    NbdTestClient c = fixture.open(export, mode);
    clients.add(c);
    return c;
  }

  private static byte[] random(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void writesReachTheDeviceAndReadBack(Mode mode) {
    NbdTestClient c = open("disk", mode);
    byte[] data = random(3 * 4096 + 17, 1);

    c.write(4096 - 5, data);

    assertThat(fixture.disk.contents(4096 - 5, data.length)).isEqualTo(data);
    assertThat(fixture.disk.checksummedBlocks()).as("whole blocks came with their checksums")
        .isEqualTo(3);
    assertThat(c.read(4096 - 5, data.length)).isEqualTo(data);
    assertThat(c.read(SIZE - 10, 10)).containsOnly(0);
  }

  @Test
  void structuredReadsSendHolesAsHoleChunks() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);
    c.write(65536, random(4096, 2));

    Reply r = c.call(0, CMD_READ, 0, 3 * 65536, NONE);

    assertThat(r.ok()).isTrue();
    assertThat(r.holeChunks()).isEqualTo(2);
    assertThat(r.data()).isEqualTo(fixture.disk.contents(0, 3 * 65536));
  }

  @Test
  void dontFragmentReadsComeInOneDataChunk() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);
    c.write(65536, random(4096, 3));

    Reply r = c.call(CMD_FLAG_DF, CMD_READ, 0, 3 * 65536, NONE);

    assertThat(r.chunks()).extracting(NbdTestClient.Chunk::type)
        .containsExactly(TYPE_OFFSET_DATA);
    assertThat(r.data()).isEqualTo(fixture.disk.contents(0, 3 * 65536));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void zeroLengthReadsSucceed(Mode mode) {
    Reply r = open("disk", mode).call(0, CMD_READ, 4096, 0, NONE);

    assertThat(r.ok()).isTrue();
    assertThat(r.data()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void outOfRangeRequestsFailWithTheSpecsErrors(Mode mode) {
    NbdTestClient c = open("disk", mode);

    assertThat(c.call(0, CMD_READ, SIZE - 1, 2, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0, CMD_READ, -4096L, 4096, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0, CMD_WRITE, SIZE, 1, new byte[1]).error()).isEqualTo(ENOSPC);
    assertThat(c.call(0, CMD_WRITE, Long.MIN_VALUE, 1, new byte[1]).error()).isEqualTo(ENOSPC);
    assertThat(c.call(0, CMD_TRIM, SIZE - 4096, 8192, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0, CMD_WRITE_ZEROES, SIZE - 4096, 8192, NONE).error()).isEqualTo(ENOSPC);
    assertThat(c.call(0, CMD_CACHE, SIZE, 1, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.read(0, 1)).containsExactly(0);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void readsLongerThanTheMaximumFail(Mode mode) {
    NbdTestClient c = open("disk", mode);
    int tooLong = NbdServerConfig.DEFAULT_MAX_PAYLOAD + 1;

    assertThat(c.call(0, CMD_READ, 0, tooLong, NONE).error()).isEqualTo(EINVAL);
    if (mode != Mode.SIMPLE) {
      assertThat(c.call(CMD_FLAG_DF, CMD_READ, 0, tooLong, NONE).error()).isEqualTo(EOVERFLOW);
    }
  }

  @Test
  void writesLongerThanTheMaximumFailAndTheStreamStaysInSync() {
    try (ServerFixture small = new ServerFixture(c -> c.maxPayload(65536));
        NbdTestClient c = small.open("disk", Mode.SIMPLE)) {
      Reply r = c.call(0, CMD_WRITE, 0, 65537, random(65537, 4));

      assertThat(r.error()).isEqualTo(EINVAL);
      assertThat(small.disk.isAllocated(0)).isFalse();
      c.write(0, new byte[] {5});
      assertThat(c.read(0, 1)).containsExactly(5);
    }
  }

  @Test
  void flushRepliesOnlyAfterTheDeviceFlushCompleted() {
    NbdTestClient c = open("disk", Mode.SIMPLE);
    c.write(0, new byte[] {1});
    ModelBlockDevice.Gate gate = fixture.disk.hold(ModelBlockDevice.Op.FLUSH);

    long cookie = c.submit(0, CMD_FLUSH, 0, 0, NONE);
    gate.awaitArrivals(1, TIMEOUT);
    assertThat(fixture.disk.unflushedWrites()).isEqualTo(1);
    assertThat(c.nothingArrives(Duration.ofMillis(200))).isTrue();
    gate.open();

    assertThat(c.await(cookie).ok()).isTrue();
    assertThat(fixture.disk.unflushedWrites()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void fuaWritesReplyOnlyOnceDurable(Mode mode) {
    NbdTestClient c = open("disk", mode);
    ModelBlockDevice.Gate gate = fixture.disk.hold(ModelBlockDevice.Op.FLUSH);

    long cookie = c.submit(CMD_FLAG_FUA, CMD_WRITE, 0, 4, random(4, 5));
    gate.awaitArrivals(1, TIMEOUT);
    assertThat(fixture.disk.unflushedWrites()).isEqualTo(1);
    gate.open();

    assertThat(c.await(cookie).ok()).isTrue();
    assertThat(fixture.disk.unflushedWrites()).isZero();
    assertThat(c.call(CMD_FLAG_FUA, CMD_WRITE_ZEROES, 0, 4096, NONE).ok()).isTrue();
    assertThat(c.call(CMD_FLAG_FUA, CMD_TRIM, 4096, 4096, NONE).ok()).isTrue();
    assertThat(fixture.disk.unflushedWrites()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aFailedFlushIsAnErrorNeverASuccess(Mode mode) {
    NbdTestClient c = open("disk", mode);
    fixture.disk.failWith(ModelBlockDevice.Op.FLUSH,
        TorusExceptions.unavailable("replica unreachable", null));

    assertThat(c.call(0, CMD_FLUSH, 0, 0, NONE).error()).isEqualTo(EIO);
    assertThat(c.call(CMD_FLAG_FUA, CMD_WRITE, 0, 1, new byte[1]).error()).isEqualTo(EIO);
  }

  @Test
  void deviceErrorsMapToNbdErrorsWithTheirMessage() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);

    fixture.disk.failWith(ModelBlockDevice.Op.READ,
        TorusExceptions.corrupted("bad crc in block 7"));
    Reply read = c.call(0, CMD_READ, 0, 4096, NONE);
    assertThat(read.error()).isEqualTo(EIO);
    assertThat(read.message()).contains("bad crc in block 7");

    fixture.disk.failWith(ModelBlockDevice.Op.WRITE, TorusExceptions.outOfSpace("store full"));
    assertThat(c.call(0, CMD_WRITE, 0, 1, new byte[1]).error()).isEqualTo(ENOSPC);
    fixture.disk.failWith(ModelBlockDevice.Op.WRITE, TorusExceptions.locked("lost the lock"));
    assertThat(c.call(0, CMD_WRITE, 0, 1, new byte[1]).error()).isEqualTo(EIO);
    fixture.disk.failWith(ModelBlockDevice.Op.WRITE, TorusExceptions.closed("volume"));
    assertThat(c.call(0, CMD_WRITE, 0, 1, new byte[1]).error()).isEqualTo(ESHUTDOWN);
  }

  @Test
  void simpleReadErrorsCarryNoData() {
    NbdTestClient c = open("disk", Mode.SIMPLE);
    fixture.disk.failWith(ModelBlockDevice.Op.READ, TorusExceptions.corrupted("bad crc"));

    assertThat(c.call(0, CMD_READ, 0, 4096, NONE).error()).isEqualTo(EIO);
    fixture.disk.failWith(ModelBlockDevice.Op.READ, null);
    assertThat(c.read(0, 4)).containsOnly(0); // the stream is still in sync
  }

  @Test
  void aFailingAllocationMapOnlyCostsTheHoles() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);
    fixture.disk.failWith(ModelBlockDevice.Op.ALLOCATION,
        new TorusException(ErrorCode.NOT_SUPPORTED, "no map"));

    Reply r = c.call(0, CMD_READ, 0, 65536, NONE);

    assertThat(r.ok()).isTrue();
    assertThat(r.holeChunks()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void trimPunchesHoles(Mode mode) {
    NbdTestClient c = open("disk", mode);
    c.write(0, random(3 * 4096, 6));

    assertThat(c.call(0, CMD_TRIM, 4096, 4096, NONE).ok()).isTrue();

    assertThat(fixture.disk.isAllocated(1)).isFalse();
    assertThat(c.read(4096, 4096)).containsOnly(0);
    assertThat(c.call(0, CMD_TRIM, 0, 0, NONE).ok()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void writeZeroesPunchesHolesUnlessNoHole(Mode mode) {
    NbdTestClient c = open("disk", mode);
    c.write(0, random(4 * 4096, 7));

    assertThat(c.call(0, CMD_WRITE_ZEROES, 0, 4096, NONE).ok()).isTrue();
    assertThat(c.call(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 4096, 4096, NONE).ok()).isTrue();
    assertThat(c.call(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 3 << 20, (2 << 20) + 100, NONE).ok())
        .isTrue();
    assertThat(c.call(CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 8192, 4096, NONE).ok()).isTrue();

    assertThat(fixture.disk.isAllocated(0)).isFalse();
    assertThat(fixture.disk.isAllocated(1)).isTrue();
    assertThat(fixture.disk.isAllocated(2)).isFalse();
    assertThat(fixture.disk.isAllocated((3 << 20) / 4096 + 300)).isTrue();
    assertThat(c.read(0, 3 * 4096)).containsOnly(0);
    assertThat(c.read(3 << 20, (2 << 20) + 100)).containsOnly(0);
  }

  @Test
  void fastZeroWithoutHolesFailsAtOnceWithEnotsup() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);
    c.write(0, random(4096, 8));

    Reply r = c.call(CMD_FLAG_FAST_ZERO | CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 0, 4096, NONE);

    assertThat(r.error()).isEqualTo(ENOTSUP);
    assertThat(fixture.disk.contents(0, 4096)).isEqualTo(random(4096, 8));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void cacheIsAnsweredAndChangesNothing(Mode mode) {
    NbdTestClient c = open("disk", mode);

    assertThat(c.call(0, CMD_CACHE, 0, 65536, NONE).ok()).isTrue();
    assertThat(fixture.disk.isAllocated(0)).isFalse();
  }

  @ParameterizedTest
  @EnumSource(value = Mode.class, names = {"STRUCTURED", "EXTENDED"})
  void blockStatusReportsHolesAndData(Mode mode) {
    NbdTestClient c = open("disk", mode);
    c.write(8192, random(8192, 9));

    Reply r = c.call(0, CMD_BLOCK_STATUS, 0, 65536, NONE);

    assertThat(r.ok()).isTrue();
    assertThat(r.chunks()).extracting(NbdTestClient.Chunk::type).containsExactly(
        mode == Mode.EXTENDED ? TYPE_BLOCK_STATUS_EXT : TYPE_BLOCK_STATUS);
    assertThat(r.descriptors()).containsExactly(
        new Descriptor(8192, 3), new Descriptor(8192, 0), new Descriptor(65536 - 16384, 3));
    Reply one = c.call(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 100, 1000, NONE);
    assertThat(one.descriptors()).containsExactly(new Descriptor(1000, 3));
  }

  @Test
  void blockStatusChecksItsRange() {
    NbdTestClient c = open("disk", Mode.STRUCTURED);

    assertThat(c.call(0, CMD_BLOCK_STATUS, SIZE - 4096, 8192, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0, CMD_BLOCK_STATUS, 0, 0, NONE).error()).isEqualTo(EINVAL);
    Reply tail = c.call(0, CMD_BLOCK_STATUS, SIZE - 4096, 4096, NONE);
    assertThat(tail.descriptors()).containsExactly(new Descriptor(4096, 3));
  }

  @Test
  void blockStatusWithoutAContextIsInvalid() {
    NbdTestClient c = NbdTestClient.connect(fixture.address());
    clients.add(c);
    c.greeting();
    c.clientFlags(3);
    c.structuredReplies();
    c.go("disk");

    assertThat(c.call(0, CMD_BLOCK_STATUS, 0, 4096, NONE).error()).isEqualTo(EINVAL);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void unknownCommandsAndFlagsAreInvalid(Mode mode) {
    NbdTestClient c = open("disk", mode);

    assertThat(c.call(0, 9, 0, 4096, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0, 0xffff, 0, 0, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(0x40, CMD_READ, 0, 4096, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(CMD_FLAG_REQ_ONE, CMD_READ, 0, 4096, NONE).error()).isEqualTo(EINVAL);
    assertThat(c.call(CMD_FLAG_NO_HOLE, CMD_WRITE, 0, 1, new byte[] {1}).error())
        .isEqualTo(EINVAL);
    if (mode == Mode.SIMPLE) {
      assertThat(c.call(CMD_FLAG_DF, CMD_READ, 0, 4096, NONE).error()).isEqualTo(EINVAL);
    }
    assertThat(fixture.disk.isAllocated(0)).isFalse();
    assertThat(c.call(CMD_FLAG_FUA, CMD_READ, 0, 4, NONE).ok()).isTrue(); // FUA is valid anywhere
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void readOnlyExportsRefuseWritesWithEperm(Mode mode) {
    NbdTestClient c = open("ro", mode);

    assertThat(c.call(0, CMD_WRITE, 0, 1, new byte[1]).error()).isEqualTo(EPERM);
    assertThat(c.call(0, CMD_TRIM, 0, 4096, NONE).error()).isEqualTo(EPERM);
    assertThat(c.call(0, CMD_WRITE_ZEROES, 0, 4096, NONE).error()).isEqualTo(EPERM);
    assertThat(c.call(0, CMD_FLUSH, 0, 0, NONE).ok()).isTrue();
    assertThat(c.read(0, 8)).containsOnly(0);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void manyRequestsInFlightCompleteOutOfOrder(Mode mode) {
    NbdTestClient c = open("disk", mode);
    ModelBlockDevice.Gate reads = fixture.disk.hold(ModelBlockDevice.Op.READ);
    List<Long> readCookies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      readCookies.add(c.submit(0, CMD_READ, i * 4096L, 4096, NONE));
    }
    List<Long> writeCookies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      writeCookies.add(c.submit(0, CMD_WRITE, (100 + i) * 4096L, 4096, random(4096, i)));
    }
    reads.awaitArrivals(20, TIMEOUT);

    List<Long> firstReplies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Reply r = c.readReply();
      assertThat(r.ok()).isTrue();
      firstReplies.add(r.cookie());
    }
    reads.open();
    List<Long> laterReplies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      laterReplies.add(c.readReply().cookie());
    }

    assertThat(firstReplies).containsExactlyInAnyOrderElementsOf(writeCookies);
    assertThat(laterReplies).containsExactlyInAnyOrderElementsOf(readCookies);
    for (int i = 0; i < 20; i++) {
      assertThat(fixture.disk.contents((100 + i) * 4096L, 4096)).isEqualTo(random(4096, i));
    }
  }

  @Test
  void cookiesAreEchoedBitForBit() {
    NbdTestClient c = open("disk", Mode.SIMPLE);
    for (long cookie : new long[] {0, -1, Long.MIN_VALUE, 0x8000000100000002L}) {
      c.sendRequest(0, CMD_FLUSH, cookie, 0, 0, NONE);
      byte[] reply = c.receive(16);
      assertThat(ByteBuffer.wrap(reply, 8, 8).getLong()).isEqualTo(cookie);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void discFinishesInFlightRequestsThenCloses(Mode mode) {
    NbdTestClient c = open("disk", mode);
    ModelBlockDevice.Gate writes = fixture.disk.hold(ModelBlockDevice.Op.WRITE);
    long cookie = c.submit(0, CMD_WRITE, 0, 4, random(4, 10));
    writes.awaitArrivals(1, TIMEOUT);

    c.disconnect();
    assertThat(c.nothingArrives(Duration.ofMillis(200))).isTrue();
    writes.open();

    assertThat(c.await(cookie).ok()).isTrue();
    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertThat(fixture.disk.contents(0, 4)).isEqualTo(random(4, 10));
  }

  @Test
  void requestsAfterDiscAreIgnored() {
    NbdTestClient c = open("disk", Mode.SIMPLE);
    c.disconnect();
    c.sendRequest(0, CMD_WRITE, 77, 0, 4, new byte[] {1, 2, 3, 4});

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertThat(fixture.disk.isAllocated(0)).isFalse();
  }

  @Test
  void multipleConnectionsShareOneDevice() {
    NbdTestClient a = open("disk", Mode.STRUCTURED);
    NbdTestClient b = open("disk", Mode.SIMPLE);

    a.write(0, new byte[] {42});
    assertThat(b.call(0, CMD_FLUSH, 0, 0, NONE).ok()).isTrue();

    assertThat(b.read(0, 1)).containsExactly(42);
    assertThat(fixture.disk.unflushedWrites()).isZero();
  }
}
