package dev.torus.volume;

import static dev.torus.storage.Blocks.drain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** The test model must itself be right, or every frontend test built on it proves nothing. */
final class ModelBlockDeviceTest {
  private final ModelBlockDevice device = new ModelBlockDevice(10_000, 1024);

  @Test
  void writesReadBackAcrossBlockBoundaries() {
    byte[] data = pattern(3000, 7);
    Futures.join(device.write(1000, Unpooled.wrappedBuffer(data)));

    assertThat(read(1000, 3000)).isEqualTo(data);
    assertThat(read(0, 1000)).containsOnly(0);
    assertThat(device.contents(1000, 3000)).isEqualTo(data);
  }

  @Test
  void checksumsThatComeWithAWriteAreChecked() {
    byte[] data = pattern(3000, 9);
    int[] crcs = ModelBlockDevice.wholeBlockCrcs(1000, Unpooled.wrappedBuffer(data), 1024);
    assertThat(crcs).hasSize(2); // blocks 1 and 2; 0 and 3 are partial

    assertCode(device.write(1000, Unpooled.wrappedBuffer(data), new int[] {crcs[0]}),
        ErrorCode.INVALID_ARGUMENT);
    assertCode(device.write(1000, Unpooled.wrappedBuffer(data), new int[] {crcs[0], ~crcs[1]}),
        ErrorCode.CORRUPTED);
    assertThat(device.isAllocated(1)).as("failed writes store nothing").isFalse();
    Futures.join(device.write(1000, Unpooled.wrappedBuffer(data), crcs));

    assertThat(device.checksummedBlocks()).isEqualTo(2);
    assertThat(read(1000, 3000)).isEqualTo(data);
  }

  @Test
  void allocationReportsHolesAndCoversTheRangeExactly() {
    Futures.join(device.write(2048, Unpooled.wrappedBuffer(pattern(100, 1))));

    List<Extent> extents = Futures.join(device.allocation(100, 9900));

    assertThat(extents)
        .containsExactly(
            new Extent(100, 1948, true),
            new Extent(2048, 1024, false),
            new Extent(3072, 6928, true));
  }

  @Test
  void trimAndWriteZeroesPunchWholeBlocksAndZeroEdges() {
    Futures.join(device.write(0, Unpooled.wrappedBuffer(pattern(4096, 3))));

    Futures.join(device.trim(512, 2048));
    Futures.join(device.writeZeroes(3072, 1024));

    assertThat(device.isAllocated(0)).isTrue();
    assertThat(device.isAllocated(1)).isFalse();
    assertThat(device.isAllocated(2)).isTrue();
    assertThat(device.isAllocated(3)).isFalse();
    assertThat(read(512, 2048)).containsOnly(0);
    assertThat(read(0, 512)).isEqualTo(Arrays.copyOf(pattern(4096, 3), 512));
  }

  @Test
  void outOfRangeAndReadOnlyFailWithTheirCodes() {
    ByteBuf data = Unpooled.buffer(10).writeZero(10);
    assertCode(device.write(9995, data), ErrorCode.INVALID_ARGUMENT);
    assertThat(data.refCnt()).isZero();
    assertCode(device.read(-1, 1), ErrorCode.INVALID_ARGUMENT);

    ModelBlockDevice ro = new ModelBlockDevice(4096, 512, true, Runnable::run);
    assertCode(ro.write(0, Unpooled.buffer(1).writeZero(1)), ErrorCode.READ_ONLY);
    assertCode(ro.trim(0, 512), ErrorCode.READ_ONLY);
  }

  @Test
  void flushCoversWritesCompletedBeforeIt() {
    Futures.join(device.write(0, Unpooled.wrappedBuffer(pattern(10, 1))));
    assertThat(device.unflushedWrites()).isEqualTo(1);

    Futures.join(device.flush());

    assertThat(device.unflushedWrites()).isZero();
    assertThat(device.flushCount()).isEqualTo(1);
  }

  @Test
  void gatesParkOperationsUntilOpenedAndFailuresReleaseBuffers() {
    ModelBlockDevice.Gate gate = device.hold(ModelBlockDevice.Op.READ);
    CompletableFuture<ByteBuf> parked = device.read(0, 10);
    gate.awaitArrivals(1, Duration.ofSeconds(1));
    assertThat(parked).isNotDone();

    gate.open();
    Futures.join(parked).release();
    assertThat(device.read(0, 1)).isDone();

    device.failWith(ModelBlockDevice.Op.WRITE, TorusExceptions.locked("lost the lock"));
    ByteBuf data = Unpooled.buffer(4).writeZero(4);
    assertCode(device.write(0, data), ErrorCode.LOCKED);
    assertThat(data.refCnt()).isZero();
  }

  @Test
  void executorCompletesOnItsThreadsAndCloseFailsLaterCalls() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      ModelBlockDevice async = new ModelBlockDevice(4096, 512, false, pool);
      ModelBlockDevice.Gate gate = async.hold(ModelBlockDevice.Op.FLUSH);
      CompletableFuture<Thread> completer = async.flush().thenApply(v -> Thread.currentThread());
      gate.open();
      assertThat(completer.get()).isNotSameAs(Thread.currentThread());

      async.close();
      assertCode(async.flush(), ErrorCode.CLOSED);
    } finally {
      pool.shutdownNow();
    }
  }

  private byte[] read(long offset, int length) {
    return drain(Futures.join(device.read(offset, length)));
  }

  private static void assertCode(CompletableFuture<?> future, ErrorCode code) {
    assertThatThrownBy(() -> Futures.join(future))
        .isInstanceOfSatisfying(TorusException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  static byte[] pattern(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }
}
