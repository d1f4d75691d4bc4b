package dev.torus.metadata.etcd;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.VolumeRoot;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd that requires client certificates: TLS files connect, plain text and a missing client
 * certificate fail clearly. Certificates come from {@link TestCertificates} (openssl).
 */
final class EtcdTlsIT {
  @TempDir static Path dir;
  private static TestCertificates certs;
  private static EtcdProcess etcd;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);

  @BeforeAll
  static void startEtcdWithTls() throws Exception {
    EtcdProcessExtension.assumeEtcdInstalled(EtcdTlsIT.class.getSimpleName());
    certs = TestCertificates.create(dir);
    etcd = certs.startEtcd();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Test
  void clientCertificatesConnect() {
    EtcdConfig.Tls tls = EtcdConfig.Tls.of(certs.clientCert(), certs.clientKey(), certs.ca());
    EtcdConfig config = EtcdConfig.of(etcd.hostPort(), tls);
    try (MetadataService m = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler)) {
      join(m.initialize(new GlobalMetadata(65536, GlobalMetadata.CRC32C),
          Rings.single(1, new RingMember(new PeerId("p1"), 1))));
      join(m.volumes().create("secure", VolumeRoot.empty(1, 1)));
      assertThat(join(m.volumes().get("secure")).name()).isEqualTo("secure");
      assertThat(m.location()).startsWith("etcd https://127.0.0.1:");
    }
  }

  @Test
  void withoutTheClientCertificateItFailsClearly() {
    for (EtcdConfig config : List.of(
        EtcdConfig.of(etcd.hostPort()),               // plain text to a TLS port
        EtcdConfig.of("https://" + etcd.hostPort()))) { // TLS, but no client certificate
      try (MetadataService m = EtcdMetadata.connect(config.withCallTimeout(Duration.ofSeconds(3)),
          Clock.systemUTC(), scheduler)) {
        assertThatThrownBy(() -> join(m.volumes().list())).isInstanceOf(TorusException.class)
            .hasMessageContaining(etcd.hostPort())
            .satisfies(e -> assertThat(((TorusException) e).code())
                .isIn(ErrorCode.UNAVAILABLE, ErrorCode.INVALID_ARGUMENT));
      }
    }
  }
}
