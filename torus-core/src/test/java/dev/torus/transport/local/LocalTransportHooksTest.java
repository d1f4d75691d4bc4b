package dev.torus.transport.local;

import static dev.torus.storage.Blocks.drain;
import static dev.torus.transport.PeerTransportContract.block;
import static dev.torus.transport.PeerTransportContract.failureOf;
import static dev.torus.transport.PeerTransportContract.join;
import static dev.torus.transport.PeerTransportContract.millisSince;
import static dev.torus.transport.PeerTransportContract.randomBytes;
import static dev.torus.transport.PeerTransportContract.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusExceptions;
import dev.torus.transport.LeakCheck;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.TestStore;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The failure hooks the distributor's tests use. */
@ExtendWith(LeakCheck.class)
final class LocalTransportHooksTest {
  private static final int BS = 4096;
  private final PeerId a = new PeerId("a");
  private final PeerId b = new PeerId("b");
  private TestStore storeA;
  private TestStore storeB;
  private LocalTransport network;
  private PeerClient toA;
  private PeerClient toB;

  @BeforeEach
  void start() {
    storeA = new TestStore(BS);
    storeB = new TestStore(BS);
    network = LocalTransport.create(PeerTransportConfig.builder()
        .callTimeout(Duration.ofMillis(500)).build());
    String addrA = network.serve(InetSocketAddress.createUnresolved("node-a", 0),
        PeerService.of(storeA)).address().toString();
    String addrB = network.serve(InetSocketAddress.createUnresolved("node-b", 0),
        PeerService.of(storeB)).address().toString();
    toA = network.client(a, addrA);
    toB = network.client(b, addrB);
  }

  @AfterEach
  void stop() {
    network.close();
    storeA.close();
    storeB.close();
  }

  @Test
  void serversGetDistinctLocalAddresses() {
    assertThat(toA.address().toString()).isEqualTo("local://node-a:1");
    assertThat(toB.address().toString()).isEqualTo("local://node-b:2");
  }

  @Test
  void aFailedPeerIsUnavailableUntilHealed() {
    network.failPeer(a);
    var e = failureOf(toA.putBlock(ref(1), block(BS, 1)));
    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(e.getMessage()).contains("failPeer").contains("local://node-a:1");
    join(toB.putBlock(ref(1), block(BS, 1)));
    network.healPeer(a);
    join(toA.putBlock(ref(1), block(BS, 1)));
    assertThat(storeA.stats().usedBlocks()).isEqualTo(1);
  }

  @Test
  void aDelayedPeerAnswersLateOrTimesOut() throws InterruptedException {
    join(toA.putBlock(ref(1), block(BS, 1)));
    network.delay(a, Duration.ofMillis(200));
    long start = System.nanoTime();
    assertThat(drain(join(toA.getBlock(ref(1))))).isEqualTo(randomBytes(BS, 1));
    assertThat(millisSince(start)).isGreaterThanOrEqualTo(200);
    network.delay(a, Duration.ofSeconds(1));
    assertThat(failureOf(toA.putBlock(ref(2), block(BS, 2))).code()).isEqualTo(ErrorCode.TIMEOUT);
    // as over a network, the late put still arrives after its caller gave up
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!join(storeA.hasBlock(ref(2))) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(join(storeA.hasBlock(ref(2)))).isTrue();
    network.delay(a, Duration.ZERO);
    assertThat(drain(join(toA.getBlock(ref(2))))).isEqualTo(randomBytes(BS, 2));
  }

  @Test
  void beforePutSeesEachPutBeforeTheStoreAndCanFailIt() {
    List<BlockRef> seen = new CopyOnWriteArrayList<>();
    network.beforePut(ref -> {
      assertThat(join(storeA.hasBlock(ref))).as("stored before the hook").isFalse();
      seen.add(ref);
    });
    join(toA.putBlock(ref(1), block(BS, 1)));
    assertThat(seen).containsExactly(ref(1));
    network.beforePut(ref -> {
      throw TorusExceptions.outOfSpace("scripted: disk full");
    });
    var e = failureOf(toA.putBlock(ref(2), block(BS, 2)));
    assertThat(e.code()).isEqualTo(ErrorCode.OUT_OF_SPACE);
    assertThat(e.getMessage()).contains("scripted: disk full");
    assertThat(join(storeA.hasBlock(ref(2)))).isFalse();
  }
}
