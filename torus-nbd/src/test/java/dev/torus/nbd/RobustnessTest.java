package dev.torus.nbd;

import static dev.torus.nbd.NbdTestClient.*;
import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.nbd.NbdTestClient.Reply;
import dev.torus.volume.ModelBlockDevice;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that misbehave, vanish or overload the server, and servers that close under load: the
 * server answers or disconnects cleanly, keeps serving, never corrupts the export and releases
 * every buffer and device.
 */
@ExtendWith(NoLeaks.class)
final class RobustnessTest {
  private static final byte[] NONE = new byte[0];

  private final List<AutoCloseable> resources = new ArrayList<>();
  private ServerFixture fixture;

  @TempDir Path tmp;

  @AfterEach
  void close() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private ServerFixture serve(Consumer<NbdServerConfig.Builder> config) {
    fixture = new ServerFixture(config);
    resources.add(fixture);
    return fixture;
  }

  private NbdTestClient open(Mode mode) {
    NbdTestClient c = fixture.open("disk", mode);
    resources.add(c);
    return c;
  }

  private static void eventually(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("never happened: " + what);
      }
      Thread.sleep(5);
    }
  }

  private void assertServesAndKept(byte[] expectedAtZero) {
    NbdTestClient c = open(Mode.STRUCTURED);
    assertThat(c.read(0, expectedAtZero.length)).isEqualTo(expectedAtZero);
    c.write(8192, new byte[] {7});
    assertThat(c.read(8192, 1)).containsExactly(7);
  }

  @Test
  void aBadRequestMagicHangsUpWithoutTouchingTheExport() {
    serve(c -> {});
    NbdTestClient c = open(Mode.SIMPLE);
    c.write(0, new byte[] {1, 2, 3, 4});

    c.send(hex("12560953 0000 0001 0000000000000001 0000000000000000 00000004 ffffffff"));

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertServesAndKept(new byte[] {1, 2, 3, 4});
  }

  @Test
  void truncatedRequestsFromVanishingClientsChangeNothing() {
    serve(c -> {});
    NbdTestClient header = open(Mode.SIMPLE);
    header.send(hex("25609513 0000 0001 00000000"));
    header.vanish();
    NbdTestClient payload = open(Mode.STRUCTURED);
    payload.send(hex("25609513 0000 0001 0000000000000001 0000000000000000 00001000"));
    payload.send(new byte[100]);
    payload.vanish();

    assertServesAndKept(new byte[4]);
    assertThat(fixture.disk.isAllocated(0)).isFalse();
  }

  @Test
  void aClientVanishingMidReadReleasesTheDataAndTheExportAfterward() throws Exception {
    serve(c -> {});
    NbdTestClient c = open(Mode.STRUCTURED);
    c.write(0, new byte[65536]);
    ModelBlockDevice.Gate reads = fixture.disk.hold(ModelBlockDevice.Op.READ);
    for (int i = 0; i < 8; i++) {
      c.submit(0, CMD_READ, 0, 65536, NONE);
    }
    reads.awaitArrivals(8, TIMEOUT);

    c.vanish();
    Thread.sleep(100);
    assertThat(fixture.exports.closed).hasValue(0); // reads still in flight on the device
    reads.open();

    eventually(() -> fixture.exports.closed.get() == 1, "export closed");
  }

  @Test
  void writesInFlightWhenTheClientVanishesStillCompleteBeforeTheExportCloses() throws Exception {
    serve(c -> {});
    NbdTestClient c = open(Mode.SIMPLE);
    ModelBlockDevice.Gate writes = fixture.disk.hold(ModelBlockDevice.Op.WRITE);
    c.submit(0, CMD_WRITE, 0, 4, new byte[] {4, 3, 2, 1});
    writes.awaitArrivals(1, TIMEOUT);

    c.vanish();
    writes.open();

    eventually(() -> fixture.exports.closed.get() == 1, "export closed");
    assertThat(fixture.disk.contents(0, 4)).containsExactly(4, 3, 2, 1);
  }

  @Test
  void everyConnectionClosesTheExportItOpenedExactlyOnce() throws Exception {
    serve(c -> {});
    for (int i = 0; i < 5; i++) {
      NbdTestClient c = open(Mode.values()[i % 3]);
      c.write(0, new byte[] {(byte) i});
      c.disconnect();
      assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    }

    eventually(() -> fixture.exports.closed.get() == 5, "five exports closed");
    assertThat(fixture.exports.opened).hasValue(5);
  }

  @Test
  void closingTheServerFinishesInFlightRequestsAndRefusesNewOnes() throws Exception {
    serve(c -> {});
    NbdTestClient c = open(Mode.STRUCTURED);
    ModelBlockDevice.Gate writes = fixture.disk.hold(ModelBlockDevice.Op.WRITE);
    long write = c.submit(0, CMD_WRITE, 0, 2, new byte[] {9, 9});
    writes.awaitArrivals(1, TIMEOUT);

    CompletableFuture<Void> closed = CompletableFuture.runAsync(fixture.server::close);
    Reply refused;
    do {
      refused = c.call(0, CMD_FLUSH, 0, 0, NONE);
    } while (refused.ok());
    assertThat(refused.error()).isEqualTo(ESHUTDOWN);
    writes.open();

    assertThat(c.await(write).ok()).isTrue();
    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    closed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(fixture.exports.closed).hasValue(1);
    assertThat(fixture.disk.contents(0, 2)).containsExactly(9, 9);
  }

  @Test
  void closingTheServerHangsUpOnIdleConnectionsAtOnce() {
    serve(c -> c.shutdownGrace(Duration.ofSeconds(30)));
    NbdTestClient c = open(Mode.SIMPLE);

    long start = System.nanoTime();
    fixture.server.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
  }

  @Test
  void closingTheServerEndsStuckConnectionsAfterTheGrace() {
    serve(c -> c.shutdownGrace(Duration.ofMillis(300)));
    NbdTestClient idle = NbdTestClient.connect(fixture.address());
    resources.add(idle);
    idle.greeting();
    NbdTestClient busy = open(Mode.SIMPLE);
    ModelBlockDevice.Gate reads = fixture.disk.hold(ModelBlockDevice.Op.READ);
    busy.submit(0, CMD_READ, 0, 4096, NONE);
    reads.awaitArrivals(1, TIMEOUT);

    fixture.server.close();
    reads.open();

    assertThat(idle.awaitClosed(TIMEOUT)).isTrue();
    assertThat(busy.awaitClosed(TIMEOUT)).isTrue();
  }

  @Test
  void aFloodOfWritesIsThrottledNotBuffered() throws Exception {
    serve(c -> c.maxPayload(65536).maxInFlight(2));
    NbdTestClient c = open(Mode.SIMPLE);
    ModelBlockDevice.Gate writes = fixture.disk.hold(ModelBlockDevice.Op.WRITE);
    int count = 64;
    List<Long> cookies = new ArrayList<>();
    CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
      for (int i = 0; i < count; i++) {
        synchronized (cookies) {
          cookies.add(c.submit(0, CMD_WRITE, i * 65536L, 65536, new byte[65536]));
        }
      }
    });

    try {
      Thread.sleep(500);
      // Reading stops at two requests in flight; what one socket read delivered may add a few.
      // The rest waits in the kernel's socket buffers, not in the server's memory.
      assertThat(writes.arrived()).isBetween(2, 8);
    } finally {
      writes.open();
    }

    sender.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    for (int i = 0; i < count; i++) {
      assertThat(c.readReply().ok()).isTrue();
    }
  }

  @Test
  void servesOnAUnixSocketAndRemovesItOnClose() {
    Path socket = tmp.resolve("nbd.sock");
    serve(c -> c.unixSocket(socket));
    assertThat(socket).exists();

    try (NbdTestClient c = NbdTestClient.open(UnixDomainSocketAddress.of(socket), "disk",
        Mode.STRUCTURED)) {
      c.write(0, new byte[] {3});
      assertThat(c.read(0, 1)).containsExactly(3);
    }
    fixture.server.close();

    assertThat(socket).doesNotExist();
  }

  @Test
  void withoutATcpAddressOnlyTheUnixSocketIsServed() {
    Path socket = tmp.resolve("only.sock");
    serve(c -> c.bindAddress(null).unixSocket(socket));

    try (NbdTestClient c = NbdTestClient.open(UnixDomainSocketAddress.of(socket), "disk",
        Mode.SIMPLE)) {
      c.write(0, new byte[] {5});
      assertThat(c.read(0, 1)).containsExactly(5);
    }
    assertThatThrownBy(() -> fixture.server.boundAddress())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anExistingSocketPathIsNotTakenOver() throws Exception {
    Path socket = Files.createFile(tmp.resolve("taken.sock"));

    assertThatThrownBy(() -> serve(c -> c.unixSocket(socket)))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS));
    assertThat(socket).exists();
  }

  @Test
  void aTakenPortFailsToStartWithUnavailable() {
    serve(c -> {});
    int port = ((InetSocketAddress) fixture.address()).getPort();

    assertThatThrownBy(() -> serve(c -> c.port(port)))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void theNioTransportServesTcpAndUnixSockets() {
    Path socket = tmp.resolve("nio.sock");
    fixture = new ServerFixture(c -> c.unixSocket(socket), NbdTransport.NIO);
    resources.add(fixture);

    NbdTestClient tcp = open(Mode.EXTENDED);
    tcp.write(0, new byte[] {1, 2});
    try (NbdTestClient unix = NbdTestClient.open(UnixDomainSocketAddress.of(socket), "disk",
        Mode.SIMPLE)) {
      assertThat(unix.read(0, 2)).containsExactly(1, 2);
    }
  }

  @Test
  void concurrentClientsDoingRandomIoLeaveExactlyWhatTheyWrote() throws Exception {
    serve(c -> {});
    int clients = 4;
    int region = 1 << 20;
    List<CompletableFuture<byte[]>> results = new ArrayList<>();
    for (int n = 0; n < clients; n++) {
      NbdTestClient c = open(Mode.values()[n % 3]);
      long base = (long) n * region;
      long seed = n;
      results.add(CompletableFuture.supplyAsync(() -> randomIo(c, base, region, seed)));
    }

    for (int n = 0; n < clients; n++) {
      byte[] expected = results.get(n).get(60, TimeUnit.SECONDS);
      assertThat(fixture.disk.contents((long) n * region, region)).isEqualTo(expected);
    }
  }

  /**
   * Random writes, zeroing, trims and reads in one region, sixteen in flight at once; a read
   * after each batch is checked against a local copy.
   */
  private static byte[] randomIo(NbdTestClient c, long base, int region, long seed) {
    Random random = new Random(seed);
    byte[] model = new byte[region];
    for (int round = 0; round < 30; round++) {
      Map<Integer, byte[]> batch = new HashMap<>();
      Map<Integer, byte[]> trimmed = new HashMap<>();
      for (int i = 0; i < 16; i++) {
        int length = 1 + random.nextInt(16384);
        int offset = random.nextInt(region - length);
        // Requests in one batch may run in any order: keep them disjoint so the result is known.
        if (batch.entrySet().stream()
            .anyMatch(e -> overlaps(e.getKey(), e.getValue().length, offset, length))) {
          continue;
        }
        byte[] data = new byte[length];
        random.nextBytes(data);
        switch (random.nextInt(4)) {
          case 0 -> {
            batch.put(offset, new byte[length]);
            c.submit(0, CMD_WRITE_ZEROES, base + offset, length, NONE);
          }
          case 1 -> {
            // Trimmed contents are undefined until rewritten, so the rewrite follows the batch.
            batch.put(offset, data);
            trimmed.put(offset, data);
            c.submit(0, CMD_TRIM, base + offset, length, NONE);
          }
          default -> {
            batch.put(offset, data);
            c.submit(random.nextBoolean() ? CMD_FLAG_FUA : 0, CMD_WRITE, base + offset, length,
                data);
          }
        }
      }
      for (int i = 0; i < batch.size(); i++) {
        Reply r = c.readReply();
        assertThat(r.ok()).as("reply %s", r).isTrue();
      }
      trimmed.forEach((o, d) -> c.write(base + o, d));
      batch.forEach((o, d) -> System.arraycopy(d, 0, model, o, d.length));
      int length = 1 + random.nextInt(65536);
      int offset = random.nextInt(region - length);
      assertThat(c.read(base + offset, length))
          .isEqualTo(Arrays.copyOfRange(model, offset, offset + length));
    }
    assertThat(c.call(0, CMD_FLUSH, 0, 0, NONE).ok()).isTrue();
    return model;
  }

  private static boolean overlaps(long a, int aLength, long b, int bLength) {
    return a < b + bLength && b < a + aLength;
  }
}
