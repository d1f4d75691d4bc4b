package dev.torus.transport.tcp;

import static dev.torus.storage.Blocks.drain;
import static dev.torus.transport.PeerTransportContract.join;
import static dev.torus.transport.PeerTransportContract.randomBytes;
import static dev.torus.transport.PeerTransportContract.ref;
import static dev.torus.transport.tcp.RawSocket.frame;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.transport.LeakCheck;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.PeerTransportContract;
import dev.torus.transport.ScriptedService;
import dev.torus.transport.TestStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A server fed what no well-behaved peer sends, over raw sockets. Each test checks the answer
 * (an ERROR frame with a code, and a close only when framing is lost), that nothing was stored
 * from a bad frame, and that the server still serves a new connection; LeakCheck checks buffers.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class TcpBadInputTest {
  private static final int BS = 4096;
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(3);

  private TestStore store;
  private ScriptedService service;
  private TcpPeerTransport node;
  private PeerServer server;

  @BeforeEach
  void startServer() {
    store = new TestStore(BS);
    service = new ScriptedService(store);
    PeerTransportConfig config = PeerTransportConfig.builder().maxInFlightPerConnection(8)
        .keepAlive(Duration.ofMillis(100), Duration.ofSeconds(1)).build();
    node = TcpPeerTransport.create(new PeerId("server"), BS, config, Runnable::run);
    server = node.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), service);
  }

  @AfterEach
  void stopServer() {
    node.close();
    service.close();
    store.close();
  }

  private RawSocket connect() throws IOException {
    return RawSocket.connect(server.boundAddress());
  }

  /** A well-behaved client on a new connection can still store and read a block. */
  private void assertServerStillServes() {
    try (TcpPeerTransport clientNode = TcpPeerTransport.create(new PeerId("client"), BS,
        PeerTransportConfig.DEFAULT, Runnable::run)) {
      PeerClient client = clientNode.client(new PeerId("server"), server.address().toString());
      join(client.putBlock(ref(1000), PeerTransportContract.block(BS, 1000)));
      assertThat(drain(join(client.getBlock(ref(1000))))).isEqualTo(randomBytes(BS, 1000));
      join(client.deleteBlock(ref(1000)));
    }
  }

  private static void assertConnectionError(RawSocket raw, ErrorCode code, String message)
      throws IOException {
    RawSocket.Reply reply = raw.read();
    assertThat(reply.type()).as("type of %s", reply).isEqualTo(0xff);
    assertThat(reply.requestId()).isZero();
    assertThat(reply.code()).isEqualTo(code);
    assertThat(reply.message()).contains(message);
    assertThat(raw.closedWithin(CLOSE_WAIT)).as("closed by the server").isTrue();
  }

  /** Waits until {@code n} calls reached the service (the test's timeout bounds it). */
  private void awaitCalls(int n) throws InterruptedException {
    while (service.calls() < n) {
      Thread.sleep(5);
    }
  }

  private static void assertEmptyReply(RawSocket.Reply reply, int type, int id) {
    assertThat(reply.type()).as("type of %s", reply).isEqualTo(type);
    assertThat(reply.requestId()).isEqualTo(id);
    assertThat(reply.body()).isEmpty();
  }

  private static void assertRequestError(RawSocket.Reply reply, int id, ErrorCode code,
      String message) {
    assertThat(reply.type()).as("type of %s", reply).isEqualTo(0xff);
    assertThat(reply.requestId()).isEqualTo(id);
    assertThat(reply.code()).isEqualTo(code);
    assertThat(reply.message()).contains(message);
  }

  @Test
  void garbageGetsAProtocolErrorAndAClose() throws IOException {
    try (RawSocket raw = connect()) {
      raw.send("GET / HTTP/1.1\r\nHost: torus\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertConnectionError(raw, ErrorCode.PROTOCOL, "bad magic");
    }
    assertServerStillServes();
  }

  @Test
  void aWrongMagicAfterTheHandshakeIsRefused() throws IOException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      byte[] get = frame(0x10, 1, RawSocket.refBody(ref(1)));
      get[1] = 'Q';
      raw.send(get);
      assertConnectionError(raw, ErrorCode.PROTOCOL, "bad magic");
    }
    assertServerStillServes();
  }

  @Test
  void aFrameOfAnotherProtocolVersionIsRefused() throws IOException {
    try (RawSocket raw = connect()) {
      raw.send(frame(2, 0x01, 0, RawSocket.helloBody(1, 1, BS, "future")));
      assertConnectionError(raw, ErrorCode.PROTOCOL, "unsupported protocol version 2");
    }
    assertServerStillServes();
  }

  @Test
  void aHelloWithoutACommonVersionIsRefused() throws IOException {
    try (RawSocket raw = connect()) {
      raw.send(frame(0x01, 0, RawSocket.helloBody(2, 3, BS, "future")));
      assertConnectionError(raw, ErrorCode.PROTOCOL, "versions 2..3");
    }
    assertServerStillServes();
  }

  @Test
  void aHelloWithAnotherBlockSizeIsRefused() throws IOException {
    try (RawSocket raw = connect()) {
      raw.send(frame(0x01, 0, RawSocket.helloBody(1, 1, 2 * BS, "other-cluster")));
      assertConnectionError(raw, ErrorCode.INVALID_ARGUMENT, "block size mismatch");
    }
    assertServerStillServes();
  }

  @Test
  void aRequestBeforeHelloIsRefused() throws IOException {
    try (RawSocket raw = connect()) {
      raw.send(frame(0x10, 1, RawSocket.refBody(ref(1))));
      assertConnectionError(raw, ErrorCode.PROTOCOL, "expected HELLO");
    }
    assertServerStillServes();
  }

  @Test
  void anOversizedLengthIsRefusedBeforeTheBodyArrives() throws IOException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      byte[] header = frame(0x11, 1, new byte[0]);
      header[8] = (byte) 0xf0;
      header[9] = header[10] = header[11] = (byte) 0xff;
      raw.send(header);
      assertConnectionError(raw, ErrorCode.PROTOCOL, "exceeds the limit");
    }
    assertServerStillServes();
  }

  @Test
  void aTruncatedFrameStoresNothing() throws IOException {
    byte[] put = frame(0x11, 1, RawSocket.putBody(ref(1), randomBytes(BS, 1)));
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(Arrays.copyOf(put, put.length / 2));
    }
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(Arrays.copyOf(put, put.length - 1));
      assertThat(raw.closedWithin(CLOSE_WAIT)).as("closed after the idle timeout").isTrue();
    }
    assertThat(store.stats().usedBlocks()).isZero();
    assertServerStillServes();
  }

  @Test
  void aPutWithABadChecksumIsRefusedAndTheConnectionStaysUsable() throws IOException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      byte[] data = randomBytes(BS, 1);
      raw.send(frame(0x11, 5, RawSocket.putBody(ref(1), data, 0x12345678)));
      assertRequestError(raw.read(), 5, ErrorCode.CORRUPTED, "CRC-32C");
      raw.send(frame(0x10, 6, RawSocket.refBody(ref(1))));
      assertRequestError(raw.read(), 6, ErrorCode.NOT_FOUND, ref(1).toString());
      raw.send(frame(0x11, 7, RawSocket.putBody(ref(1), data)));
      assertEmptyReply(raw.read(), 0x91, 7);
    }
    assertThat(service.calls()).as("calls that reached the service").isEqualTo(2);
    assertServerStillServes();
  }

  @Test
  void malformedBodiesAreRefusedPerRequest() throws IOException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(frame(0x11, 1, RawSocket.putBody(ref(1), randomBytes(BS - 1, 1))));
      assertRequestError(raw.read(), 1, ErrorCode.PROTOCOL, "PUT body");
      raw.send(frame(0x10, 2, new byte[24]));
      assertRequestError(raw.read(), 2, ErrorCode.PROTOCOL, "invalid block ref");
      raw.send(frame(0x12, 3, new byte[] {(byte) 0xff, (byte) 0xff, 0, 0}));
      assertRequestError(raw.read(), 3, ErrorCode.PROTOCOL, "at most 4096");
      raw.send(frame(0x90, 4, new byte[0]));
      assertRequestError(raw.read(), 4, ErrorCode.PROTOCOL, "is a response");
      raw.send(frame(0x01, 5, RawSocket.helloBody(1, 1, BS, "again")));
      assertRequestError(raw.read(), 5, ErrorCode.PROTOCOL, "HELLO sent twice");
      raw.send(frame(0x02, 6, new byte[0]));
      assertEmptyReply(raw.read(), 0x82, 6);
    }
    assertThat(store.stats().usedBlocks()).isZero();
    assertThat(service.calls()).isZero();
    assertServerStillServes();
  }

  @Test
  void anUnknownMessageTypeIsNotSupportedAndTheConnectionStaysUsable() throws IOException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(frame(0x42, 9, new byte[] {1, 2, 3}));
      assertRequestError(raw.read(), 9, ErrorCode.NOT_SUPPORTED, "unknown message type 0x42");
      raw.send(frame(0x14, 10, new byte[0]));
      assertEmptyReply(raw.read(), 0x91, 10);
    }
    assertServerStillServes();
  }

  @Test
  void aClientThatVanishesMidRequestLeavesNothingBehind()
      throws IOException, InterruptedException {
    join(store.putBlock(ref(1), PeerTransportContract.block(BS, 1)));
    CompletableFuture<Void> gate = service.holdReads(ref(1));
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(frame(0x10, 1, RawSocket.refBody(ref(1))));
      awaitCalls(1);
    }
    // the answer is ready only after the client left; its buffer must still be released
    gate.complete(null);
    service.hang(true);
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      raw.send(frame(0x11, 2, RawSocket.putBody(ref(2), randomBytes(BS, 2))));
      awaitCalls(2);
    }
    service.hang(false);
    assertServerStillServes();
  }

  @Test
  void theServerStopsReadingWhileTooManyRequestsAreUnanswered()
      throws IOException, InterruptedException {
    join(store.putBlock(ref(1), PeerTransportContract.block(BS, 1)));
    CompletableFuture<Void> gate = service.holdReads(ref(1));
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      for (int i = 1; i <= 20; i++) {
        raw.send(frame(0x10, i, RawSocket.refBody(ref(1))));
      }
      awaitCalls(8);
      Thread.sleep(200);
      assertThat(service.calls()).as("requests taken while 8 are unanswered").isEqualTo(8);
      gate.complete(null);
      Set<Integer> answered = new HashSet<>();
      for (int i = 1; i <= 20; i++) {
        RawSocket.Reply reply = raw.read();
        assertThat(reply.type()).isEqualTo(0x90);
        answered.add(reply.requestId());
      }
      assertThat(answered).hasSize(20);
    }
    assertServerStillServes();
  }

  @Test
  void anIdleConnectionIsClosedUnlessThePeerPings() throws IOException, InterruptedException {
    try (RawSocket raw = connect()) {
      raw.hello(BS);
      for (int i = 1; i <= 15; i++) {
        Thread.sleep(100);
        raw.send(frame(0x02, i, new byte[0]));
        assertThat(raw.read().type()).isEqualTo(0x82);
      }
      assertThat(raw.closedWithin(CLOSE_WAIT)).as("closed once the pings stop").isTrue();
    }
    assertServerStillServes();
  }
}
