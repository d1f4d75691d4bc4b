package dev.torus.server;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusAssertions;
import dev.torus.TorusException;
import dev.torus.client.MetadataLocation;
import dev.torus.client.Torus;
import dev.torus.distributor.DistributorConfig;
import dev.torus.gc.GcConfig;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.ring.Rings;
import dev.torus.server.http.StatusHttp;
import dev.torus.volume.VolumeConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's {@code /health} and {@code /metrics}, over real HTTP from a node started in-process. */
final class StatusHttpTest {
  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aTakenPortFailsWithTheAddressAndWhatToDo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      InetSocketAddress address =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
      PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

      assertThatThrownBy(() -> StatusHttp.start(address, metrics,
              () -> new StatusHttp.Health(true, "{}")))
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
          .hasMessageStartingWith("cannot listen for HTTP on 127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining("another process listens there");
    }
  }

  @Test
  void healthAndMetricsDescribeTheNodeAndHealthFailsWithItsRegistration() throws Exception {
    MetadataLocation location = MetadataLocation.embedded(dir.resolve("metadata.db"));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (MetadataService m = Torus.openMetadata(location, scheduler)) {
      join(m.initialize(new GlobalMetadata(32768, GlobalMetadata.CRC32C),
          Rings.mod(1, 1, List.of())));
    } finally {
      scheduler.shutdownNow();
    }
    ServerConfig config = new ServerConfig(dir.resolve("data"), 64L << 20, "tcp://127.0.0.1:0",
        true, location, DistributorConfig.DEFAULT, VolumeConfig.DEFAULT, GcConfig.DEFAULT,
        Optional.of(new InetSocketAddress("127.0.0.1", 0)), Duration.ofMillis(200),
        Duration.ofSeconds(10));
    try (TorusServer server = TorusServer.start(config)) {
      InetSocketAddress at = server.httpAddress().orElseThrow();
      HttpResponse<String> health = get(at, "/health");
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("\"id\":\"" + server.id() + "\"")
          .contains("\"ringMember\":true").contains("\"registered\":true")
          .contains("\"capacityBytes\":" + (64L << 20));

      HttpResponse<String> metrics = get(at, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("torus_storage_capacity_blocks 2048.0")
          .contains("torus_gc_cycles_total{outcome=\"completed\"}")
          .contains("torus_gc_deleted_blocks_total").contains("torus_gc_short_of_space 0.0")
          .contains("torus_distributor_read_failures_total")
          .contains("torus_volume_stalled_writes_total 0.0")
          .contains("torus_volume_failed_stalled_writes_total 0.0")
          .contains("torus_volume_failed_write_backs_total 0.0")
          .contains("torus_volume_reclaimed_blocks_total 0.0");

      server.metadata().close(); // the heartbeat can no longer register the node
      TorusAssertions.eventually(() -> get(at, "/health").statusCode() == 503,
          Duration.ofSeconds(10));
      assertThat(get(at, "/health").body()).contains("\"registered\":false")
          .contains("\"problem\":\"heartbeat failed: ");
    }
  }

  private HttpResponse<String> get(InetSocketAddress at, String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
