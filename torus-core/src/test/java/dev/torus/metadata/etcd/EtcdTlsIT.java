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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd that requires client certificates: TLS files connect, plain text and a missing client
 * certificate fail clearly. Certificates are made with {@code openssl} (skipped without it).
 */
final class EtcdTlsIT {
  @TempDir static Path certs;
  private static EtcdProcess etcd;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);

  @BeforeAll
  static void startEtcdWithTls() throws Exception {
    EtcdProcessExtension.assumeEtcdInstalled(EtcdTlsIT.class.getSimpleName());
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")),
        "openssl is not installed; skipping the etcd TLS test");
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=torus-test-ca");
    for (String name : List.of("server", "client")) {
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "-key.pem",
          "-out", name + ".csr", "-subj", "/CN=" + name);
      Files.writeString(certs.resolve(name + ".ext"), name.equals("server")
          ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
          : "extendedKeyUsage=clientAuth\n");
      openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
          "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    }
    etcd = EtcdProcess.startTls(certs.resolve("server.pem"), certs.resolve("server-key.pem"),
        certs.resolve("ca.pem"));
  }

  private static void openssl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(certs.toFile()).redirectErrorStream(true)
        .redirectOutput(certs.resolve("openssl.log").toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: "
          + Files.readString(certs.resolve("openssl.log")));
    }
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
    EtcdConfig.Tls tls = EtcdConfig.Tls.of(certs.resolve("client.pem"),
        certs.resolve("client-key.pem"), certs.resolve("ca.pem"));
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
