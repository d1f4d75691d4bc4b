package dev.torus.cli;

import static dev.torus.nbd.ExternalTools.require;
import static dev.torus.nbd.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code torusblk nbdserve} as a real process in front of a real storage node, with libnbd's tools
 * as the clients: data copied in and out, snapshots exported read-only, a read-only server that
 * refuses writes, SIGTERM committing and unlocking the volumes it had open, and the warning at
 * start when no storage node can take blocks.
 */
final class TorusBlkIT {
  private static final Duration TOOL = Duration.ofMinutes(2);
  /** Up to the newline: the log may be read while the line is half written. */
  private static final Pattern SERVING =
      Pattern.compile("Serving [^\\n]+? over NBD at (nbd://[^\\s,]+)[^\\n]*?(?:, HTTP at (http://\\S+))?\\n");

  @TempDir
  Path dir;

  String meta() {
    return "--metadata=" + dir.resolve("metadata.db");
  }

  /** A running nbdserve, the URIs it printed (HTTP's with --http only), and its output so far. */
  private record Server(Process process, String uri, @Nullable String http, Path log) {
    String output() throws IOException {
      return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** The status and body of GET {@code path} from the HTTP server. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(http + path)).build(), BodyHandlers.ofString());
    }

    void stop() throws InterruptedException {
      process.destroy();
      assertThat(process.waitFor(1, TimeUnit.MINUTES)).as("nbdserve stops on SIGTERM").isTrue();
    }
  }

  private Server nbdserve(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of(meta(), "nbdserve", "-l", "127.0.0.1:0"));
    args.addAll(List.of(extra));
    Path log = Files.createTempFile(dir, "nbdserve", ".log");
    Process p = new ProcessBuilder(Processes.java("dev.torus.cli.TorusBlk", args))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      Matcher m = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
      if (m.find()) {
        return new Server(p, m.group(1), m.group(2), log);
      }
      if (!p.isAlive()) {
        break;
      }
      Thread.sleep(100);
    }
    p.destroyForcibly();
    throw new AssertionError("nbdserve did not start:\n" + Files.readString(log));
  }

  static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  @Test
  void nbdserveServesVolumesAndSnapshotsAndCommitsOnSigterm() throws Exception {
    require("nbdcopy", "libnbd-bin");
    require("nbdinfo", "libnbd-bin");
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    Processes.torusctl(dir, meta(), "volume", "create-block", "disk", "32MiB").ok("create");
    byte[] data = new byte[32 << 20];
    new Random(5).nextBytes(data);
    Path in = Files.write(dir.resolve("in.raw"), data);
    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), meta(), "--auto-join").start()) {
      Server server = nbdserve("--http", "127.0.0.1:0");
      try {
        assertThat(run(TOOL, "nbdinfo", "--list", server.uri()).assertSuccess("nbdinfo --list").output())
            .contains("export=\"disk\"");
        run(TOOL, "nbdcopy", in.toString(), server.uri() + "/disk").assertSuccess("nbdcopy in");
        Path out = dir.resolve("out.raw");
        run(TOOL, "nbdcopy", server.uri() + "/disk", out.toString()).assertSuccess("nbdcopy out");
        assertThat(sha256(out)).isEqualTo(sha256(in));
        assertThat(server.output()).as("no warning with a node up").doesNotContain("warning");
        HttpResponse<String> metrics = server.get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body())
            .contains("torus_nbd_written_bytes_total " + (double) data.length)
            .containsPattern("torus_nbd_read_bytes_total [1-9]")
            .contains("torus_distributor_read_failures_total 0.0") // the cluster client's meters
            .contains("torus_volume_failed_write_backs_total 0.0");
      } finally {
        server.stop(); // SIGTERM: the shutdown hook commits and unlocks
      }
      assertThat(Processes.torusctl(dir, meta(), "volume", "list").ok("list").out())
          .containsPattern("disk\\s+32 MiB\\s+free");
      Path dumped = dir.resolve("dumped.raw");
      Processes.torusctl(dir, meta(), "block", "dump", "disk", dumped.toString()).ok("dump");
      assertThat(sha256(dumped)).as("everything written over NBD was committed").isEqualTo(sha256(in));

      Processes.torusctl(dir, meta(), "block", "snapshot", "create", "disk@gold").ok("snapshot");
      Server readOnly = nbdserve("--read-only");
      try {
        Path snap = dir.resolve("snap.raw");
        run(TOOL, "nbdcopy", readOnly.uri() + "/disk@gold", snap.toString()).assertSuccess("snapshot out");
        assertThat(sha256(snap)).isEqualTo(sha256(in));
        assertThat(run(TOOL, "nbdcopy", in.toString(), readOnly.uri() + "/disk").exit())
            .as("a read-only server refuses writes").isNotZero();
      } finally {
        readOnly.stop();
      }
    }
  }

  @Test
  void nbdserveWarnsAtStartWhenNoStorageNodeCanTakeBlocks() throws Exception {
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    Server noRing = nbdserve("--http", "127.0.0.1:0");
    try {
      assertThat(noRing.output()).contains("warning: the ring has no storage nodes", "--auto-join");
      HttpResponse<String> health = noRing.get("/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).contains("the ring has no storage nodes");
    } finally {
      noRing.stop();
    }
    try (Processes.Node node =
        new Processes.Node(dir.resolve("n1"), meta(), "--auto-join").start()) {
      Server up = nbdserve("--http", "127.0.0.1:0");
      try {
        assertThat(up.output()).doesNotContain("warning");
        assertThat(up.get("/health").statusCode()).isEqualTo(200);
      } finally {
        up.stop();
      }
      node.stop(); // SIGTERM: deregisters
    }
    Server allDown = nbdserve(); // the ring still names the node
    try {
      assertThat(allDown.output())
          .contains("warning: no storage node of the ring is running (0 of 1 registered)");
    } finally {
      allDown.stop();
    }
  }

  @Test
  void nbdserveExportLimitsWhatClientsSeeAndOneExportIsTheDefault() throws Exception {
    require("nbdinfo", "libnbd-bin");
    Processes.torusctl(dir, meta(), "init", "--replication", "1").ok("init");
    Processes.torusctl(dir, meta(), "volume", "create-block", "disk", "8MiB").ok("create disk");
    Processes.torusctl(dir, meta(), "volume", "create-block", "secret", "8MiB").ok("create secret");
    Server server = nbdserve("--export", "disk");
    try {
      assertThat(server.output()).contains("Serving disk over NBD");
      String list = run(TOOL, "nbdinfo", "--list", server.uri()).assertSuccess("--list").output();
      assertThat(list).contains("export=\"disk\"").doesNotContain("secret");
      assertThat(run(TOOL, "nbdinfo", server.uri() + "/secret").exit())
          .as("a volume not exported is unknown").isNotZero();
      assertThat(run(TOOL, "nbdinfo", server.uri()).assertSuccess("no name").output())
          .as("the one export is the default").contains("export-size: 8388608");
    } finally {
      server.stop();
    }
  }

  @Test
  void attachOnAKernelWithoutNbdSaysSoBeforeLookingForTheVolume() {
    assumeFalse(Files.exists(Path.of("/dev/nbd0")), "this kernel has NBD; attach is a manual test");

    Processes.Result r = Processes.run(dir, "dev.torus.cli.TorusBlk", List.of(meta(), "nbd", "disk"));

    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("no NBD support", "torusblk nbdserve").doesNotContain("disk");
  }
}
