package dev.torus.transport;

import static dev.torus.storage.Blocks.drain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.internal.concurrent.Futures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link PeerTransport} shares, run against each implementation: a test class
 * implements {@link #newTransport} and inherits the tests. Each test makes a server node serving a
 * store and a client node calling it.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public interface PeerTransportContract {
  int BLOCK = 4096;

  /**
   * A transport for the node {@code self}. Transports made in one test must reach each other; an
   * in-process implementation may return the same object each time. The test closes them.
   */
  PeerTransport newTransport(PeerId self, int blockSize, PeerTransportConfig config);

  /** Where test servers bind. */
  default InetSocketAddress bindAddress() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  /** Generous deadlines for a loaded machine, and a short reconnect back-off. */
  default PeerTransportConfig config() {
    return PeerTransportConfig.builder()
        .callTimeout(Duration.ofSeconds(10))
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .build();
  }

  /** A server node serving a scripted service over a store, and a client node calling it. */
  final class Peers implements AutoCloseable {
    public final PeerId serverId;
    public final TestStore store;
    public final ScriptedService service;
    public final PeerTransport serverNode;
    public final PeerTransport clientNode;
    public final PeerClient client;
    public PeerServer server;

    Peers(PeerTransportContract test, int blockSize, PeerTransportConfig config) {
      serverId = new PeerId("server-" + blockSize);
      store = new TestStore(blockSize);
      service = new ScriptedService(store);
      serverNode = test.newTransport(serverId, blockSize, config);
      clientNode = test.newTransport(new PeerId("client"), blockSize, config);
      server = serverNode.serve(test.bindAddress(), service);
      client = clientNode.client(serverId, server.address().toString());
    }

    /** Serves the same service again at the address the server had. */
    public void restart() {
      server.close();
      server = serverNode.serve(server.boundAddress(), service);
    }

    @Override
    public void close() {
      client.close();
      server.close();
      clientNode.close();
      serverNode.close();
      service.close();
      store.close();
    }
  }

  default Peers peers(int blockSize, PeerTransportConfig config) {
    return new Peers(this, blockSize, config);
  }

  static BlockRef ref(long index) {
    return new BlockRef(new VolumeId(3), 7, index, BlockType.DATA);
  }

  static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** A pooled buffer, so that the leak detector tracks it (unpooled heap buffers are not). */
  static ByteBuf block(int size, long seed) {
    return ByteBufAllocator.DEFAULT.buffer(size).writeBytes(randomBytes(size, seed));
  }

  static <T> T join(CompletableFuture<T> future) {
    return Futures.join(future, Duration.ofSeconds(30));
  }

  /** The failure of a future, which must fail within 30 s. */
  static TorusException failureOf(CompletableFuture<?> future) {
    try {
      Object value = future.get(30, TimeUnit.SECONDS);
      fail("expected a failure, got " + value);
      throw new AssertionError();
    } catch (ExecutionException e) {
      return TorusExceptions.unwrap(e);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within 30 s", e);
    } catch (InterruptedException e) {
      throw TorusExceptions.interrupted(e);
    }
  }

  /** Retries a call that fails with UNAVAILABLE until it succeeds, for up to 10 s. */
  static <T> T eventually(Supplier<CompletableFuture<T>> call) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return join(call.get());
      } catch (TorusException e) {
        if (e.code() != ErrorCode.UNAVAILABLE || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @ParameterizedTest(name = "{0}-byte blocks")
  @ValueSource(ints = {4096, 1 << 20})
  default void putThenGetReturnsTheSameBytes(int blockSize) {
    try (Peers p = peers(blockSize, config())) {
      byte[] data = randomBytes(blockSize, blockSize);
      join(p.client.putBlock(ref(1), block(blockSize, blockSize)));
      assertThat(drain(join(p.store.getBlock(ref(1))))).as("stored").isEqualTo(data);
      assertThat(drain(join(p.client.getBlock(ref(1))))).as("read back").isEqualTo(data);
    }
  }

  @Test
  default void getOfAMissingBlockFailsWithNotFound() {
    try (Peers p = peers(BLOCK, config())) {
      TorusException e = failureOf(p.client.getBlock(ref(404)));
      assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(e.getMessage()).contains(ref(404).toString());
    }
  }

  @Test
  default void hasBlocksSetsTheBitsOfStoredBlocks() {
    try (Peers p = peers(BLOCK, config())) {
      for (int i : new int[] {0, 3, 9}) {
        join(p.client.putBlock(ref(i), block(BLOCK, i)));
      }
      List<BlockRef> refs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        refs.add(ref(i));
      }
      assertThat(join(p.client.hasBlocks(refs)))
          .isEqualTo(BitSet.valueOf(new long[] {0b10_0000_1001}));
      assertThat(join(p.client.hasBlocks(List.of()))).isEqualTo(new BitSet());
    }
  }

  @Test
  default void hasBlocksAnswersLongLists() {
    try (Peers p = peers(BLOCK, config())) {
      BitSet expected = new BitSet();
      for (int i = 0; i < 10_000; i += 997) {
        join(p.client.putBlock(ref(i), block(BLOCK, i)));
        expected.set(i);
      }
      List<BlockRef> refs = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        refs.add(ref(i));
      }
      assertThat(join(p.client.hasBlocks(refs))).isEqualTo(expected);
    }
  }

  @Test
  default void deleteRemovesABlockAndToleratesAMissingOne() {
    try (Peers p = peers(BLOCK, config())) {
      join(p.client.putBlock(ref(1), block(BLOCK, 1)));
      join(p.client.deleteBlock(ref(1)));
      assertThat(join(p.client.hasBlocks(List.of(ref(1))))).isEqualTo(new BitSet());
      assertThat(failureOf(p.client.getBlock(ref(1))).code()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(p.store.stats().usedBlocks()).isZero();
      join(p.client.deleteBlock(ref(2)));
    }
  }

  @Test
  default void flushCompletesOnlyAfterThePeersStoreFlushed() throws InterruptedException {
    try (Peers p = peers(BLOCK, config())) {
      join(p.client.putBlock(ref(1), block(BLOCK, 1)));
      CompletableFuture<Void> gate = p.store.holdFlushes();
      CompletableFuture<Void> flush = p.client.flush();
      Thread.sleep(200);
      assertThat(flush).as("flush before the store flushed").isNotDone();
      gate.complete(null);
      join(flush);
      assertThat(p.store.flushes()).isEqualTo(1);
    }
  }

  @Test
  default void manyConcurrentRequestsShareOneConnection() {
    PeerTransportConfig config = config().toBuilder()
        .connectionsPerPeer(1).maxInFlightPerConnection(16).maxQueuedPerConnection(1000).build();
    try (Peers p = peers(BLOCK, config)) {
      int n = 500;
      List<CompletableFuture<Void>> puts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        puts.add(p.client.putBlock(ref(i), block(BLOCK, i)));
      }
      join(Futures.allOf(puts));
      List<CompletableFuture<ByteBuf>> gets = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        gets.add(p.client.getBlock(ref(i)));
      }
      for (int i = 0; i < n; i++) {
        assertThat(drain(join(gets.get(i)))).as("block %d", i).isEqualTo(randomBytes(BLOCK, i));
      }
      assertThat(p.store.stats().usedBlocks()).isEqualTo(n);
    }
  }

  @Test
  default void answersOnOneConnectionMayComeOutOfOrder() {
    try (Peers p = peers(BLOCK, config().toBuilder().connectionsPerPeer(1).build())) {
      join(p.client.putBlock(ref(1), block(BLOCK, 1)));
      join(p.client.putBlock(ref(2), block(BLOCK, 2)));
      CompletableFuture<Void> gate = p.service.holdReads(ref(1));
      CompletableFuture<ByteBuf> first = p.client.getBlock(ref(1));
      CompletableFuture<ByteBuf> second = p.client.getBlock(ref(2));
      assertThat(drain(join(second))).isEqualTo(randomBytes(BLOCK, 2));
      assertThat(first).as("the held read").isNotDone();
      gate.complete(null);
      assertThat(drain(join(first))).isEqualTo(randomBytes(BLOCK, 1));
    }
  }

  @Test
  default void serviceFailuresArriveWithTheirCodeAndMessage() {
    try (Peers p = peers(BLOCK, config())) {
      for (ErrorCode code : List.of(ErrorCode.OUT_OF_SPACE, ErrorCode.LOCKED, ErrorCode.CORRUPTED,
          ErrorCode.READ_ONLY)) {
        p.service.fail(() -> new TorusException(code, "scripted failure " + code));
        TorusException e = failureOf(p.client.putBlock(ref(1), block(BLOCK, 1)));
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.getMessage()).contains("scripted failure " + code);
      }
      p.service.fail(() -> new IllegalStateException("disk on fire"));
      TorusException internal = failureOf(p.client.getBlock(ref(1)));
      assertThat(internal.code()).isEqualTo(ErrorCode.INTERNAL);
      assertThat(internal.getMessage()).contains("disk on fire");
      p.service.throwAtOnce(true);
      p.service.fail(() -> new TorusException(ErrorCode.NOT_SUPPORTED, "thrown, not returned"));
      TorusException thrown = failureOf(p.client.hasBlocks(List.of(ref(1))));
      assertThat(thrown.code()).isEqualTo(ErrorCode.NOT_SUPPORTED);
      assertThat(thrown.getMessage()).contains("thrown, not returned");
      p.service.fail(null);
      join(p.client.flush());
    }
  }

  @Test
  default void aDeadPeerFailsFastWithUnavailable() {
    try (Peers p = peers(BLOCK, config())) {
      join(p.client.flush());
      String address = p.server.address().toString();
      p.server.close();
      for (int i = 0; i < 3; i++) {
        long start = System.nanoTime();
        TorusException e = failureOf(p.client.getBlock(ref(1)));
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.getMessage()).contains(address);
        assertThat(millisSince(start)).as("ms to fail").isLessThan(2000);
      }
    }
  }

  @Test
  default void aPeerThatStopsAnsweringTimesOutWithinTheDeadline() {
    Duration deadline = Duration.ofMillis(300);
    try (Peers p = peers(BLOCK, config().toBuilder().callTimeout(deadline).build())) {
      join(p.client.putBlock(ref(1), block(BLOCK, 1)));
      p.service.hang(true);
      long start = System.nanoTime();
      TorusException read = failureOf(p.client.getBlock(ref(1)));
      long took = millisSince(start);
      assertThat(read.code()).isEqualTo(ErrorCode.TIMEOUT);
      assertThat(read.getMessage()).contains("getBlock");
      assertThat(took).as("ms to time out").isBetween(deadline.toMillis() - 20, 3000L);
      assertThat(failureOf(p.client.putBlock(ref(2), block(BLOCK, 2))).code())
          .isEqualTo(ErrorCode.TIMEOUT);
      assertThat(failureOf(p.client.flush()).code()).isEqualTo(ErrorCode.TIMEOUT);
      p.service.hang(false);
      assertThat(drain(join(p.client.getBlock(ref(1))))).isEqualTo(randomBytes(BLOCK, 1));
    }
  }

  @Test
  default void reconnectsAfterTheServerRestarts() throws InterruptedException {
    try (Peers p = peers(BLOCK, config())) {
      join(p.client.putBlock(ref(1), block(BLOCK, 1)));
      p.server.close();
      assertThat(failureOf(p.client.getBlock(ref(1))).code()).isEqualTo(ErrorCode.UNAVAILABLE);
      p.restart();
      assertThat(drain(eventually(() -> p.client.getBlock(ref(1)))))
          .isEqualTo(randomBytes(BLOCK, 1));
    }
  }

  @Test
  default void clientsAreCachedPerPeerUntilClosedOrMoved() {
    try (Peers p = peers(BLOCK, config())) {
      String address = p.server.address().toString();
      assertThat(p.clientNode.client(p.serverId, address)).isSameAs(p.client);
      PeerServer second = p.serverNode.serve(bindAddress(), p.service);
      PeerClient moved = p.clientNode.client(p.serverId, second.address().toString());
      assertThat(moved).isNotSameAs(p.client);
      assertThat(moved.address()).isEqualTo(second.address());
      assertThat(failureOf(p.client.flush()).code()).isEqualTo(ErrorCode.CLOSED);
      join(moved.flush());
      moved.close();
      moved.close();
      assertThat(failureOf(moved.flush()).code()).isEqualTo(ErrorCode.CLOSED);
      PeerClient fresh = p.clientNode.client(p.serverId, second.address().toString());
      assertThat(fresh).isNotSameAs(moved);
      join(fresh.flush());
      second.close();
    }
  }

  @Test
  default void aClosedTransportRefusesWork() {
    try (Peers p = peers(BLOCK, config())) {
      join(p.client.flush());
      p.clientNode.close();
      p.clientNode.close();
      assertThat(failureOf(p.client.flush()).code()).isEqualTo(ErrorCode.CLOSED);
      assertThatThrownBy(() -> p.clientNode.client(p.serverId, p.server.address().toString()))
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
      assertThatThrownBy(() -> p.clientNode.serve(bindAddress(), p.service))
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
    }
  }

  @Test
  default void aPutOfTheWrongSizeFailsAndReleasesItsBuffer() {
    try (Peers p = peers(BLOCK, config())) {
      ByteBuf small = ByteBufAllocator.DEFAULT.buffer(100).writeZero(100);
      assertThat(failureOf(p.client.putBlock(ref(1), small)).code())
          .isEqualTo(ErrorCode.INVALID_ARGUMENT);
      assertThat(small.refCnt()).isZero();
      assertThat(p.store.stats().usedBlocks()).isZero();
    }
  }

  @Test
  default void malformedAddressesAreRefusedWithClearErrors() {
    try (Peers p = peers(BLOCK, config())) {
      String scheme = p.server.address().scheme();
      assertThatThrownBy(() -> p.clientNode.client(p.serverId, "127.0.0.1:40000"))
          .isInstanceOfSatisfying(TorusException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("no scheme");
          });
      assertThatThrownBy(() -> p.clientNode.client(p.serverId, scheme + "://127.0.0.1"))
          .isInstanceOfSatisfying(TorusException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("no port");
          });
      assertThatThrownBy(() -> p.clientNode.client(p.serverId, scheme + "://127.0.0.1:0"))
          .isInstanceOfSatisfying(TorusException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("port 0");
          });
      assertThatThrownBy(() -> p.clientNode.client(p.serverId, "gopher://127.0.0.1:70"))
          .isInstanceOfSatisfying(TorusException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("gopher");
          });
    }
  }
}
