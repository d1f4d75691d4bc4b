package dev.torus.metadata.etcd;

import static dev.torus.TorusAssertions.eventually;
import static dev.torus.internal.concurrent.Futures.join;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerInfo;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.kv.KvOp;
import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.Txn;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a user gets wrong or finds broken: no etcd where the endpoints point, an etcd that accepts
 * connections but never answers, a cluster nobody initialised, values under our prefix that Torus
 * did not write. Each must fail fast and clearly, and leave the process working.
 */
final class EtcdBadInputIT {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final GlobalMetadata GLOBAL = new GlobalMetadata(65536, GlobalMetadata.CRC32C);

  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertFailsWithin(
      Duration limit, Supplier<CompletableFuture<?>> call) {
    long start = System.nanoTime();
    Throwable failure = null;
    try {
      join(call.get());
    } catch (TorusException e) {
      failure = e;
    }
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(limit);
    return assertThat(failure).isNotNull();
  }

  @Test
  void nothingListeningFailsFastWithUnavailableNamingTheEndpoint() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    EtcdConfig config = EtcdConfig.of("127.0.0.1:" + port).withCallTimeout(TIMEOUT);
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
      for (int i = 0; i < 3; i++) {
        assertFailsWithin(TIMEOUT.plusSeconds(1), () -> m.volumes().list())
            .hasMessageContaining("127.0.0.1:" + port).hasMessageContaining("Connection refused")
            .satisfies(e -> assertThat(((TorusException) e).code())
                .isEqualTo(ErrorCode.UNAVAILABLE));
      }
      assertFailsWithin(TIMEOUT.plusSeconds(1), () -> m.leases().keepAlive(1))
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.UNAVAILABLE));
      m.rings().watch(r -> { }).close(); // a watch on a dead etcd neither throws nor hangs
    }
  }

  @Test
  void anEtcdThatNeverAnswersTimesOutNamingTheEndpoint() throws IOException {
    try (ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      EtcdConfig config = EtcdConfig.of("127.0.0.1:" + blackHole.getLocalPort())
          .withCallTimeout(TIMEOUT);
      try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
        assertFailsWithin(TIMEOUT.plusSeconds(1),
            () -> m.initialize(GLOBAL, Rings.empty(1)))
            .hasMessageContaining("127.0.0.1:" + blackHole.getLocalPort())
            .hasMessageContaining("may or may not have been applied")
            .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.TIMEOUT));
        assertFailsWithin(TIMEOUT.plusSeconds(1), () -> m.leases().keepAlive(1))
            .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.TIMEOUT));
      }
    }
  }

  @Test
  void anUninitialisedClusterSaysRunInitAndWhere() {
    EtcdConfig config = EtcdConfig.of(ETCD.etcd().hostPort()).withRootPrefix("/nobody-ran-init");
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
      assertThatThrownBy(() -> join(m.volumes().create("v", VolumeRoot.empty(1, 1))))
          .isInstanceOf(TorusException.class).hasMessageContaining("torusctl init")
          .hasMessageContaining(ETCD.etcd().hostPort())
          .satisfies(e -> assertThat(((TorusException) e).code())
              .isEqualTo(ErrorCode.NOT_INITIALIZED));
    }
  }

  @Test
  void foreignValuesUnderOurPrefixAreCorruptedNamingTheKeyAndTheRestKeepsWorking()
      throws Exception {
    String root = "/torus-" + UUID.randomUUID();
    EtcdConfig config = EtcdConfig.of(ETCD.etcd().hostPort()).withRootPrefix(root);
    List<Versioned<Ring>> rings = new CopyOnWriteArrayList<>();
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler);
        KvStore raw = EtcdKvStore.connect(config, scheduler)) {
      join(m.initialize(GLOBAL, Rings.single(1, new RingMember(new PeerId("p1"), 100))));
      join(m.volumes().create("good", VolumeRoot.empty(4096, 1)));
      String badVolume = root + "/v1/volumes/" + join(m.volumes().create("bad",
          VolumeRoot.empty(4096, 1))).id().hex() + "/info";
      String ring = root + "/v1/ring/current";
      String peer = root + "/v1/peers/intruder";
      try (Subscription sub = m.rings().watch(rings::add)) {
        eventually(() -> rings.size() == 1, Duration.ofSeconds(10));
        // JSON as the Go original stored records, and bytes that are no protobuf at all
        join(raw.txn(Txn.of(List.of(
            new KvOp.Put(ring, "{\"version\":2,\"type\":\"mod\"}".getBytes(UTF_8), 0),
            new KvOp.Put(badVolume, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}, 0),
            new KvOp.Put(peer, "hello".getBytes(UTF_8), 0)))));

        for (Supplier<CompletableFuture<?>> call : List.<Supplier<CompletableFuture<?>>>of(
            () -> m.rings().current(), () -> m.volumes().list(), () -> m.volumes().get("bad"),
            () -> m.view())) {
          assertThatThrownBy(() -> join(call.get())).isInstanceOf(TorusException.class)
              .hasMessageMatching("(?s).*(" + ring + "|" + badVolume + ").*")
              .satisfies(e -> assertThat(((TorusException) e).code())
                  .isEqualTo(ErrorCode.CORRUPTED));
        }
        assertThat(join(m.volumes().get("good")).size()).isEqualTo(4096);
        String badName = root + "/v1/names/good-too";
        join(m.volumes().create("good-too", VolumeRoot.empty(1, 1)));
        join(raw.txn(Txn.of(List.of(new KvOp.Put(badName, new byte[0], 0)))));
        for (Supplier<CompletableFuture<?>> call : List.<Supplier<CompletableFuture<?>>>of(
            () -> m.volumes().get("good-too"), () -> m.volumes().delete("good-too"))) {
          assertThatThrownBy(() -> join(call.get())).isInstanceOf(TorusException.class)
              .hasMessageContaining(badName)
              .satisfies(e -> assertThat(((TorusException) e).code())
                  .isEqualTo(ErrorCode.CORRUPTED));
        }
        PeerInfo node = new PeerInfo(new PeerId("node-1"), "tcp://127.0.0.1:1",
            Instant.ofEpochMilli(1), 1, 0, 1, false);
        join(m.peers().register(node, 0));
        assertThat(join(m.peers().list())).as("a bad peer record hides no good one")
            .containsExactly(node);

        // The operator repairs the ring by hand; the watch, which skipped the garbage, goes on.
        Ring repaired = Rings.single(2, new RingMember(new PeerId("p2"), 100));
        join(raw.txn(Txn.of(List.of(new KvOp.Put(ring, encode(repaired, config), 0)))));
        eventually(() -> rings.get(rings.size() - 1).value().version() == 2,
            Duration.ofSeconds(10));
        assertThat(rings).extracting(r -> r.value().version()).containsExactly(1L, 2L);
      }
    }
  }

  /** A ring's stored bytes, written through a scratch cluster the way Torus writes them. */
  private byte[] encode(Ring ring, EtcdConfig config) {
    EtcdConfig scratch = config.withRootPrefix("/scratch-" + UUID.randomUUID());
    try (MetadataService m = EtcdMetadata.connect(scratch, Clock.systemUTC(), scheduler);
        KvStore raw = EtcdKvStore.connect(scratch, scheduler)) {
      join(m.initialize(GLOBAL, ring));
      return join(raw.get(scratch.rootPrefix() + "/v1/ring/current")).orElseThrow().value();
    }
  }

  @Test
  void closingTheClientLeavesNoThreadsBehind() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    EtcdConfig config = EtcdConfig.of(ETCD.etcd().hostPort())
        .withRootPrefix("/torus-" + UUID.randomUUID());
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
      join(m.initialize(GLOBAL, Rings.empty(1)));
      List<Versioned<Ring>> seen = new CopyOnWriteArrayList<>();
      m.rings().watch(seen::add);
      long lease = join(m.leases().grant(Duration.ofSeconds(5)));
      join(m.leases().keepAlive(lease));
      eventually(() -> !seen.isEmpty(), Duration.ofSeconds(10));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!leftover(before).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(leftover(before)).isEmpty();
  }

  /** Threads started since {@code before} that still run, except the JDK's and JUnit's own. */
  private static Set<String> leftover(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive())
        .map(Thread::getName)
        .filter(n -> !n.startsWith("ForkJoinPool") && !n.startsWith("pool-")
            && !n.equals("FailsafeDelayScheduler")) // Failsafe's one static daemon timer
        .collect(Collectors.toSet());
  }
}
