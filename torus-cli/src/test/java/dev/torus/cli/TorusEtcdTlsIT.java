package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.metadata.etcd.EtcdProcess;
import dev.torus.metadata.etcd.EtcdProcessExtension;
import dev.torus.metadata.etcd.TestCertificates;
import dev.torus.server.options.ConfigFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools on an etcd that requires client certificates: torusctl with the three {@code
 * --etcd-*-file} flags, and torusd and torusctl through a profile that 'torusctl config' wrote.
 */
final class TorusEtcdTlsIT {
  @TempDir static Path certDir;
  private static TestCertificates certs;
  private static EtcdProcess etcd;

  @TempDir
  Path dir;

  @BeforeAll
  static void startEtcdWithTls() throws Exception {
    EtcdProcessExtension.assumeEtcdInstalled(TorusEtcdTlsIT.class.getSimpleName());
    certs = TestCertificates.create(certDir);
    etcd = certs.startEtcd();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  static List<String> tls() {
    return List.of("-C", etcd.hostPort(), "--etcd-cert-file", certs.clientCert().toString(),
        "--etcd-key-file", certs.clientKey().toString(), "--etcd-ca-file", certs.ca().toString());
  }

  static String[] args(List<String> first, String... rest) {
    List<String> all = new ArrayList<>(first);
    all.addAll(List.of(rest));
    return all.toArray(String[]::new);
  }

  @Test
  void flagsAndAProfileReachTheClusterAndANodeServesThroughIt() throws Exception {
    Processes.torusctl(dir, args(tls(), "init", "--replication", "1")).ok("init with TLS flags");
    Path config = dir.resolve("config.json");
    List<String> profile = List.of("--config", config.toString(), "--profile", "secure");
    assertThat(Processes.torusctl(dir, args(profile, args(tls(), "config"))).ok("config").out())
        .contains("Saved profile 'secure'").contains("with TLS");
    assertThat(ConfigFile.read(config).profile("secure").orElseThrow().caFile())
        .isEqualTo(certs.ca());

    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), args(profile, "--auto-join"))
        .start()) {
      assertThat(node.log()).contains("metadata etcd https://" + etcd.hostPort());
      byte[] data = new byte[1_500_000];
      new Random(11).nextBytes(data);
      Path input = Files.write(dir.resolve("in.bin"), data);
      Processes.torusctl(dir, args(profile, "block", "load", input.toString(), "secret"))
          .ok("load through the profile");
      Path output = dir.resolve("out.bin");
      Processes.torusctl(dir, args(tls(), "block", "dump", "secret", output.toString()))
          .ok("dump with TLS flags");
      assertThat(Files.readAllBytes(output)).isEqualTo(data);
      assertThat(Processes.torusctl(dir, args(profile, "list-peers")).ok("list-peers").out())
          .contains(node.id);
    }
  }

  @Test
  void withoutTheClientCertificateItIsOneClearLine() {
    Processes.Result plain = Processes.torusctl(dir, "-C", etcd.hostPort(), "volume", "list");
    assertThat(plain.exit()).isNotZero();
    assertThat(plain.err().lines()).singleElement().satisfies(l -> assertThat(l)
        .startsWith("torusctl: etcd at http://" + etcd.hostPort()));
  }
}
