package dev.torus.metadata.etcd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A throw-away CA with a server certificate for 127.0.0.1 and a client certificate, made with
 * {@code openssl} in a directory, for etcd over mutual TLS ({@link EtcdProcess#startTls}). Tests
 * using it skip when openssl is missing.
 */
public record TestCertificates(Path dir) {
  private static final Path OPENSSL = Path.of("/usr/bin/openssl");

  /** Makes the CA and both certificates in {@code dir}; skips the calling test without openssl. */
  public static TestCertificates create(Path dir) throws IOException, InterruptedException {
    Assumptions.assumeTrue(Files.isExecutable(OPENSSL),
        "openssl is not installed; skipping the etcd TLS test");
    TestCertificates certs = new TestCertificates(dir);
    certs.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=torus-test-ca");
    for (String name : List.of("server", "client")) {
      certs.openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "-key.pem",
          "-out", name + ".csr", "-subj", "/CN=" + name);
      Files.writeString(dir.resolve(name + ".ext"), name.equals("server")
          ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
          : "extendedKeyUsage=clientAuth\n");
      certs.openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
          "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    }
    return certs;
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(OPENSSL.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("openssl.log").toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: "
          + Files.readString(dir.resolve("openssl.log")));
    }
  }

  /** Starts etcd serving these certificates and requiring client certificates of this CA. */
  public EtcdProcess startEtcd() {
    return EtcdProcess.startTls(dir.resolve("server.pem"), dir.resolve("server-key.pem"), ca());
  }

  /** The CA certificate. */
  public Path ca() {
    return dir.resolve("ca.pem");
  }

  /** The client certificate. */
  public Path clientCert() {
    return dir.resolve("client.pem");
  }

  /** The client's private key. */
  public Path clientKey() {
    return dir.resolve("client-key.pem");
  }
}
