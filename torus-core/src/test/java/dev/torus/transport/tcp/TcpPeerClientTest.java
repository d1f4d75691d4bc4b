package dev.torus.transport.tcp;

import static dev.torus.storage.Blocks.drain;
import static dev.torus.transport.PeerTransportContract.block;
import static dev.torus.transport.PeerTransportContract.failureOf;
import static dev.torus.transport.PeerTransportContract.join;
import static dev.torus.transport.PeerTransportContract.millisSince;
import static dev.torus.transport.PeerTransportContract.randomBytes;
import static dev.torus.transport.PeerTransportContract.ref;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.transport.LeakCheck;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.ScriptedService;
import dev.torus.transport.TestStore;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** TCP client behaviour beyond the contract: handshake checks, integrity, keep-alive, limits. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class TcpPeerClientTest {
  private static final int BS = 4096;
  private static final PeerId SERVER = new PeerId("server");
  private static final InetSocketAddress LOOPBACK =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private static PeerTransportConfig oneConnection() {
    return PeerTransportConfig.builder().connectionsPerPeer(1).build();
  }

  private static TcpPeerTransport node(String id, int blockSize, PeerTransportConfig config) {
    return TcpPeerTransport.create(new PeerId(id), blockSize, config, Runnable::run);
  }

  @Test
  void aTakenPortFailsWithTheAddressAndWhatToDo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        TestStore store = new TestStore(BS);
        TcpPeerTransport serverNode = node("server", BS, PeerTransportConfig.DEFAULT)) {
      InetSocketAddress address =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());

      assertThatThrownBy(() -> serverNode.serve(address, PeerService.of(store)))
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
          .hasMessageStartingWith("cannot listen for peers on 127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining("another process listens there");
    }
  }

  @Test
  void aPeerWithAnotherBlockSizeIsRefused() {
    try (TestStore store = new TestStore(BS);
        TcpPeerTransport serverNode = node("server", BS, PeerTransportConfig.DEFAULT);
        TcpPeerTransport clientNode = node("client", 2 * BS, PeerTransportConfig.DEFAULT)) {
      PeerServer server = serverNode.serve(LOOPBACK, PeerService.of(store));
      PeerClient client = clientNode.client(SERVER, server.address().toString());
      for (int attempt = 0; attempt < 2; attempt++) {
        TorusException e = failureOf(client.flush());
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("block size mismatch").contains(server.address()
            .toString());
      }
    }
  }

  @Test
  void anotherNodeAtThePeersAddressIsRefused() {
    try (TestStore store = new TestStore(BS);
        TcpPeerTransport serverNode = node("server", BS, PeerTransportConfig.DEFAULT);
        TcpPeerTransport clientNode = node("client", BS, PeerTransportConfig.DEFAULT)) {
      PeerServer server = serverNode.serve(LOOPBACK, PeerService.of(store));
      PeerClient client = clientNode.client(new PeerId("replaced"), server.address().toString());
      TorusException e = failureOf(client.flush());
      assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(e.getMessage()).contains("the node there is server, not the expected peer");
    }
  }

  @Test
  void aBlockCorruptedInTransitFailsWithCorruptedNotData() throws Exception {
    byte[] data = randomBytes(BS, 1);
    int crc = Crc32c.of(data, 0, data.length);
    try (FakePeer fake = new FakePeer(peer -> {
          FakePeer.acceptHello(peer, BS, "server");
          RawSocket.Reply first = peer.read();
          peer.send(RawSocket.frame(0x90, first.requestId(), RawSocket.blockBody(data, ~crc)));
          RawSocket.Reply second = peer.read();
          peer.send(RawSocket.frame(0x90, second.requestId(), RawSocket.blockBody(data, crc)));
          peer.closedWithin(Duration.ofSeconds(30));
        });
        TcpPeerTransport clientNode = node("client", BS, oneConnection())) {
      PeerClient client = clientNode.client(SERVER, fake.address());
      TorusException e = failureOf(client.getBlock(ref(1)));
      assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
      assertThat(e.getMessage()).contains("CRC-32C").contains(ref(1).toString());
      assertThat(drain(join(client.getBlock(ref(1))))).as("the same connection, next answer")
          .isEqualTo(data);
    }
  }

  @Test
  void aSilentPeerIsFoundByKeepAlive() throws Exception {
    AtomicInteger pings = new AtomicInteger();
    try (FakePeer fake = new FakePeer(peer -> {
          FakePeer.acceptHello(peer, BS, "server");
          while (true) {
            if (peer.read().type() == 0x02) {
              pings.incrementAndGet();
            }
          }
        });
        TcpPeerTransport clientNode = node("client", BS, oneConnection().toBuilder()
            .keepAlive(Duration.ofMillis(100), Duration.ofMillis(600))
            .callTimeout(Duration.ofSeconds(20)).build())) {
      PeerClient client = clientNode.client(SERVER, fake.address());
      long start = System.nanoTime();
      TorusException e = failureOf(client.getBlock(ref(1)));
      assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
      assertThat(e.getMessage()).contains("nothing received for");
      assertThat(millisSince(start)).isLessThan(5000);
      assertThat(pings.get()).as("pings sent while waiting").isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void inFlightAndQueuedCallsAreBoundedPerConnection() throws InterruptedException {
    PeerTransportConfig config = oneConnection().toBuilder().maxInFlightPerConnection(4)
        .maxQueuedPerConnection(6).callTimeout(Duration.ofSeconds(5)).build();
    try (TestStore store = new TestStore(BS);
        ScriptedService service = new ScriptedService(store);
        TcpPeerTransport serverNode = node("server", BS, PeerTransportConfig.DEFAULT);
        TcpPeerTransport clientNode = node("client", BS, config)) {
      PeerServer server = serverNode.serve(LOOPBACK, service);
      PeerClient client = clientNode.client(SERVER, server.address().toString());
      join(client.flush());
      service.hang(true);
      int before = service.calls();
      List<CompletableFuture<ByteBuf>> calls = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        calls.add(client.getBlock(ref(i)));
      }
      while (service.calls() - before < 4) {
        Thread.sleep(5);
      }
      Thread.sleep(200);
      assertThat(service.calls() - before).as("requests the server saw").isEqualTo(4);
      for (CompletableFuture<ByteBuf> refused : calls.subList(10, 15)) {
        TorusException e = failureOf(refused);
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.getMessage()).contains("calls are already waiting");
      }
      assertThat(calls.subList(0, 10)).as("sent or waiting").noneMatch(CompletableFuture::isDone);
      for (CompletableFuture<ByteBuf> call : calls.subList(0, 10)) {
        assertThat(failureOf(call).code()).isEqualTo(ErrorCode.TIMEOUT);
      }
      service.hang(false);
      join(client.putBlock(ref(1), block(BS, 1)));
    }
  }

  @Test
  void aFrameLimitThatCannotHoldABlockIsRefused() {
    PeerTransportConfig small = PeerTransportConfig.builder()
        .maxFrameSize(DataSize.ofKibibytes(512)).build();
    assertThatThrownBy(() -> node("n", 1 << 20, small))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot hold");
  }

  @Test
  void closeStopsTheIoThreads() throws InterruptedException {
    TestStore store = new TestStore(BS);
    TcpPeerTransport both = node("server", BS, PeerTransportConfig.DEFAULT);
    PeerServer server = both.serve(LOOPBACK, PeerService.of(store));
    join(both.client(SERVER, server.address().toString()).flush());
    both.close();
    store.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ioThreads() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(ioThreads()).as("live torus-peer threads").isZero();
  }

  private static long ioThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("torus-peer")).count();
  }
}
