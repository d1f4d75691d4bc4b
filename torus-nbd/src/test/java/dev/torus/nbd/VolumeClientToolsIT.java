package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client tools against real Torus volumes over each store: embedded metadata in SQLite, each
 * test on a fresh cluster in a temporary directory. The volume service outlives the servers a test
 * starts, as torusd's does.
 */
final class VolumeClientToolsIT {
  private final List<AutoCloseable> opened = new ArrayList<>();

  /** The durable file store: blocks received through the connection's read buffer. */
  @Nested
  final class FileStore implements NbdClientToolsContract {
    @Override
    public ExportResolver exports(String name, long size) {
      return volume(name, size, (dir, block, io) -> BlockStores.openFile(
          FileStoreConfig.of(dir.resolve("blocks"), block, DataSize.ofBytes(4 * size)), io));
    }
  }

  /** The in-memory store: blocks received in runs of adjacent memory. */
  @Nested
  final class MemoryStore implements NbdClientToolsContract {
    @Override
    public ExportResolver exports(String name, long size) {
      return volume(name, size, (dir, block, io) -> BlockStores.inMemory(block, 4 * size / block));
    }
  }

  /**
   * TLS (STARTTLS) with libnbd's tools, on the in-memory store whose writes are otherwise read
   * from the socket straight into block memory: under TLS the socket carries ciphertext, so they
   * must not be. Certificates come from openssl: a CA, the server's for 127.0.0.1, a client's.
   */
  @Nested
  final class Tls {
    private static final Duration TOOL = Duration.ofMinutes(2);
    private static final int SIZE = 8 << 20;
    @TempDir Path certs;

    private NbdServer tlsServer(boolean required) {
      ExternalTools.require("openssl", "openssl");
      openssl("-keyout", file("ca-key.pem"), "-out", file("ca-cert.pem"), "-subj", "/CN=test CA");
      for (String who : List.of("server", "client")) {
        openssl("-keyout", file(who + "-key.pem"), "-out", file(who + "-cert.pem"),
            "-subj", "/CN=" + who, "-addext", "subjectAltName=IP:127.0.0.1",
            "-CA", file("ca-cert.pem"), "-CAkey", file("ca-key.pem"));
      }
      NbdServer server = NbdServer.start(NbdServerConfig.builder().port(0)
          .tls(new NbdTls(certs.resolve("server-cert.pem"), certs.resolve("server-key.pem"),
              certs.resolve("ca-cert.pem"), required)).build(),
          volume("disk", SIZE, (dir, block, io) -> BlockStores.inMemory(block, 4 * SIZE / block)));
      opened.add(server); // closed first, before the volume it serves
      return server;
    }

    private String file(String name) {
      return certs.resolve(name).toString();
    }

    /** A new P-256 key and a certificate for it, valid for two days. */
    private void openssl(String... args) {
      List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-newkey", "ec",
          "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"));
      command.addAll(List.of(args));
      ExternalTools.run(TOOL, command.toArray(String[]::new)).assertSuccess("openssl");
    }

    private String uri(NbdServer server, String scheme, Path credentials) {
      return scheme + "://127.0.0.1:" + server.boundAddress().getPort() + "/disk"
          + (credentials == null ? "" : "?tls-certificates=" + credentials);
    }

    @Test
    void dataCrossesTlsIntactAndClientsWithoutTlsOrACertificateAreRefused() throws Exception {
      ExternalTools.require("nbdcopy", "libnbd-bin");
      NbdServer server = tlsServer(true);
      byte[] data = new byte[SIZE];
      new Random(7).nextBytes(data);
      Path in = Files.write(certs.resolve("in.raw"), data);
      Path out = certs.resolve("out.raw");

      ExternalTools.run(TOOL, "nbdcopy", "--flush", in.toString(), uri(server, "nbds", certs))
          .assertSuccess("nbdcopy in over TLS");
      ExternalTools.run(TOOL, "nbdcopy", uri(server, "nbds", certs), out.toString())
          .assertSuccess("nbdcopy out over TLS");

      assertThat(Files.mismatch(in, out)).as("first byte that differs").isEqualTo(-1L);
      assertThat(ExternalTools.run(TOOL, "nbdinfo", uri(server, "nbd", null)).exit())
          .as("a client without TLS").isNotZero();
      Path caOnly = Files.createDirectory(certs.resolve("ca-only"));
      Files.copy(certs.resolve("ca-cert.pem"), caOnly.resolve("ca-cert.pem"));
      assertThat(ExternalTools.run(TOOL, "nbdinfo", uri(server, "nbds", caOnly)).exit())
          .as("a client without a certificate").isNotZero();
      assertThat(ExternalTools.run(TOOL, "nbdinfo", uri(server, "nbds", certs)).exit())
          .as("the server still serves").isZero();
    }

    @Test
    void untilTlsIsOnARequiringServerAnswersOnlyStartTlsAndAbort() {
      NbdServer server = tlsServer(true);
      NbdTestClient c = NbdTestClient.connect(server.boundAddress());
      c.greeting();
      c.clientFlags(3);

      assertThat(c.option(NbdTestClient.OPT_LIST, new byte[0]).get(0).type())
          .isEqualTo(NbdTestClient.REP_ERR_TLS_REQD);
      assertThat(c.option(NbdTestClient.OPT_GO, new byte[6]).get(0).type())
          .isEqualTo(NbdTestClient.REP_ERR_TLS_REQD);
      assertThat(c.option(NbdTestClient.OPT_STARTTLS, new byte[] {1}).get(0).type())
          .as("STARTTLS takes no data").isEqualTo(NbdTestClient.REP_ERR_INVALID);
      c.sendOption(NbdTestClient.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
      assertThat(c.awaitClosed(Duration.ofSeconds(10)))
          .as("EXPORT_NAME has no error reply: the server hangs up").isTrue();
    }

    @Test
    void aServerThatOffersTlsAlsoServesClientsWithout() {
      ExternalTools.require("nbdinfo", "libnbd-bin");
      NbdServer server = tlsServer(false);

      assertThat(ExternalTools.run(TOOL, "nbdinfo", uri(server, "nbd", null)).exit()).isZero();
      assertThat(ExternalTools.run(TOOL, "nbdinfo", uri(server, "nbds", certs)).output())
          .contains("with TLS");
    }
  }

  private interface StoreOpener {
    BlockStore open(Path dir, int blockSize, ExecutorService io);
  }

  private ExportResolver volume(String name, long size, StoreOpener store) {
    try {
      Path dir = Files.createTempDirectory("torus-nbd-it");
      ExecutorService io = Executors.newFixedThreadPool(4);
      // The block size a cluster gets by default, so the real clients test what users run.
      int block = GlobalMetadata.defaultBlockSize();
      VolumeFixture f = VolumeFixture.build(block, VolumeConfig.DEFAULT,
          scheduler -> EmbeddedMetadata.open(dir.resolve("metadata.db"), Clock.systemUTC(), scheduler),
          store.open(dir, block, io));
      opened.add(io::shutdownNow);
      opened.add(f);
      Futures.join(f.volumes.catalog().create(name, size));
      return ExportResolver.ofVolumes(f.volumes, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterEach
  void closeVolumes() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }
}
