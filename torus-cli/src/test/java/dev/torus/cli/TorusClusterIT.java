package dev.torus.cli;

import static dev.torus.nbd.ExternalTools.require;
import static dev.torus.nbd.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage nodes as real processes on one host, sharing the embedded metadata: one node, then
 * three with replication 2; data loaded and dumped through the real CLI over TCP between the
 * processes, a node killed with SIGKILL, and restarted; a node serving one volume over NBD
 * itself, with its requests counted at {@code /metrics}.
 */
final class TorusClusterIT {
  @TempDir
  Path dir;

  String meta() {
    return "--metadata=" + dir.resolve("metadata.db");
  }

  Path randomFile(String name, int size, long seed) throws IOException {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return Files.write(dir.resolve(name), data);
  }

  static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  void loadAndDumpEqual(String volume, Path input) throws Exception {
    Processes.torusctl(dir, meta(), "block", "load", input.toString(), volume).ok("block load");
    Path out = dir.resolve(volume + ".out");
    Processes.torusctl(dir, meta(), "block", "dump", volume, out.toString()).ok("block dump");
    assertThat(sha256(out)).isEqualTo(sha256(input));
  }

  @Test
  void oneNodeServesLoadAndDump() throws Exception {
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), meta(), "--auto-join").start()) {
      loadAndDumpEqual("single", randomFile("single.bin", 7_000_123, 1));
      Processes.Result peers = Processes.torusctl(dir, meta(), "list-peers").ok("list-peers");
      assertThat(peers.out()).contains(node.address).contains(node.id).contains("OK");
      assertThat(node.stop()).as("exit status after SIGTERM (143 = terminated by the signal)")
          .isIn(0, 143);
      assertThat(node.log()).contains("torusd: stopping").contains(node.id + " stopped");
      String after = Processes.torusctl(dir, meta(), "list-peers").ok("list-peers").out();
      assertThat(after).as("a clean stop deregisters the node").doesNotContain(node.address);
      assertThat(after.lines().filter(l -> l.contains(node.id)).findFirst())
          .as("it stays in the ring, shown as down").hasValueSatisfying(l -> assertThat(l).contains("DOWN"));
    }
  }

  @Test
  void aNodeServingNbdServesItsExportAndCountsItsClientsAtMetrics() throws Exception {
    require("nbdcopy", "libnbd-bin");
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    Processes.torusctl(dir, meta(), "volume", "create-block", "disk", "8MiB").ok("create");
    Processes.torusctl(dir, meta(), "volume", "create-block", "other", "8MiB").ok("create");
    Path in = randomFile("in.bin", 1 << 20, 3);
    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), meta(), "--auto-join",
        "--nbd", "127.0.0.1:0", "--nbd-export", "disk", "--host", "127.0.0.1", "--port", "0")
        .start()) {
      Matcher at = node.awaitLog(Pattern.compile("HTTP at (http://\\S+), NBD at (nbd://\\S+)\\n"));
      assertThat(run(Duration.ofMinutes(1), "nbdinfo", "--list", at.group(2))
          .assertSuccess("nbdinfo --list").output())
          .contains("export=\"disk\"").doesNotContain("other");
      assertThat(run(Duration.ofMinutes(1), "nbdinfo", at.group(2) + "/other").exit())
          .as("a volume left out is unknown").isNotZero();
      run(Duration.ofMinutes(2), "nbdcopy", in.toString(), at.group(2))
          .assertSuccess("nbdcopy in, to the one export as the default");
      Path out = dir.resolve("out.bin");
      run(Duration.ofMinutes(2), "nbdcopy", at.group(2) + "/disk", out.toString())
          .assertSuccess("nbdcopy out");
      assertThat(Files.readAllBytes(out)).startsWith(Files.readAllBytes(in));

      String metrics = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(at.group(1) + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();

      assertThat(metrics) // nbdcopy opens several connections
          .containsPattern("torus_nbd_connections_accepted_total [1-9]")
          .contains("torus_nbd_written_bytes_total " + (double) (1 << 20))
          .containsPattern("torus_nbd_requests_total\\{command=\"write\",?\\} [1-9]")
          .contains("torus_nbd_error_replies_total{error=\"EIO\"} 0.0");
    }
  }

  @Test
  void threeNodesKeepDataThroughAKilledNodeAndTakeItBack() throws Exception {
    Processes.torusctl(dir, meta(), "init", "--replication", "2").ok("init");
    try (Processes.Node a = new Processes.Node(dir.resolve("a"), meta(), "--auto-join").start();
        Processes.Node b = new Processes.Node(dir.resolve("b"), meta(), "--auto-join").start();
        Processes.Node c = new Processes.Node(dir.resolve("c"), meta(), "--auto-join").start()) {
      assertThat(Processes.torusctl(dir, meta(), "ring", "get").ok("ring get").out())
          .contains("Replication: 2").contains(a.id).contains(b.id).contains(c.id);
      Path input = randomFile("data.bin", 24_000_000, 2);
      loadAndDumpEqual("data", input);

      b.kill();
      Path out = dir.resolve("after-kill.out");
      Processes.torusctl(dir, meta(), "block", "dump", "data", out.toString()).ok("dump with a node down");
      assertThat(sha256(out)).isEqualTo(sha256(input));

      b.start();
      String peers = Processes.torusctl(dir, meta(), "list-peers").ok("list-peers").out();
      assertThat(peers.lines().filter(l -> l.contains(b.id)).findFirst())
          .hasValueSatisfying(l -> assertThat(l).contains(b.address).contains("OK"));
      Path again = dir.resolve("after-restart.out");
      Processes.torusctl(dir, meta(), "block", "dump", "data", again.toString()).ok("dump after restart");
      assertThat(sha256(again)).isEqualTo(sha256(input));
    }
  }

  @Test
  void aFullNodeRefusesMoreDataClearlyAndKeepsWhatItHas() throws Exception {
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), meta(), "--auto-join",
        "--size", "8MiB").start()) {
      Path small = randomFile("small.bin", 2_000_000, 3);
      loadAndDumpEqual("small", small);
      Processes.Result full = Processes.torusctl(dir, meta(), "block", "load",
          randomFile("big.bin", 12_000_000, 4).toString(), "big");
      assertThat(full.exit()).as(full.err()).isEqualTo(10 + ErrorCode.OUT_OF_SPACE.wire());
      assertThat(full.err()).contains("full").doesNotContain("Exception");
      assertThat(node.process.isAlive()).as("the node stays up").isTrue();
      Path again = dir.resolve("small-again.out");
      Processes.torusctl(dir, meta(), "block", "dump", "small", again.toString()).ok("dump after the full load");
      assertThat(sha256(again)).isEqualTo(sha256(small));
    }
  }

  @Test
  void wrongFlagsAndAnUninitialisedClusterAreClearErrors() {
    Processes.Result noPort = Processes.run(dir, "dev.torus.server.TorusDaemon",
        List.of(meta(), "--data-dir", dir.resolve("x").toString(), "--peer-address", "tcp://127.0.0.1"));
    assertThat(noPort.exit()).isEqualTo(2);
    assertThat(noPort.err()).contains("has no port");
    Processes.Result noScheme = Processes.run(dir, "dev.torus.server.TorusDaemon",
        List.of(meta(), "--data-dir", dir.resolve("x").toString(), "--peer-address", "127.0.0.1:4000"));
    assertThat(noScheme.exit()).isEqualTo(2);
    assertThat(noScheme.err()).contains("has no scheme");
    Processes.Result uninit = Processes.run(dir, "dev.torus.server.TorusDaemon",
        List.of(meta(), "--data-dir", dir.resolve("x").toString(), "--peer-address", "tcp://127.0.0.1:0"));
    assertThat(uninit.exit()).isEqualTo(23);
    assertThat(uninit.err()).contains("run 'torusctl init' first");
  }
}
