package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.server.options.ConfigFile;
import dev.torus.server.options.ConnectionProfile;
import dev.torus.server.options.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class TorusCtlTest {
  final MemorySessions sessions = new MemorySessions();
  String out;
  String err;

  @AfterEach
  void tearDown() {
    sessions.close();
  }

  int run(String... args) {
    Processes.Result r = InProcess.torusctl(sessions, args);
    out = r.out();
    err = r.err();
    return r.exit();
  }

  @Test
  void commandsBeforeInitSayRunInit() {
    assertThat(run("volume", "create-block", "v", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.NOT_INITIALIZED));
    assertThat(err).contains("torusctl init").doesNotContain("Exception");
  }

  @Test
  void initCreateListResizeDelete() {
    DataSize defaultBlock = DataSize.parse(GlobalMetadata.DEFAULT_BLOCK_SIZE);
    assertThat(run("init")).isZero();
    assertThat(out).contains("block size " + defaultBlock);
    assertThat(run("init")).isEqualTo(ExitCodes.of(ErrorCode.ALREADY_EXISTS));
    assertThat(run("init", "--view")).isZero();
    assertThat(out).contains("Block size: " + defaultBlock.bytes() + " bytes")
        .contains("Block spec: crc32c");
    assertThat(run("volume", "create-block", "db", "10GiB")).isZero();
    assertThat(run("block", "create", "web", "512MiB")).isZero();
    assertThat(run("volume", "list")).isZero();
    assertThat(out.lines()).hasSize(3);
    assertThat(out.lines().toList().get(0)).startsWith("NAME").contains("SIZE").contains("STATUS");
    assertThat(out).containsPattern("db\\s+10 GiB\\s+free").containsPattern("web\\s+512 MiB\\s+free");
    assertThat(run("volume", "list", "-o", "json")).isZero();
    assertThat(out).contains("\"name\": \"db\"").contains("\"size\": \"10 GiB\"");
    assertThat(run("volume", "list", "--output", "csv", "--bytes")).isZero();
    assertThat(out).contains("db,10737418240,free");
    assertThat(run("volume", "resize", "db", "20GiB")).isZero();
    assertThat(out).contains("now 20 GiB");
    assertThat(run("volume", "resize", "db", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("shrinking");
    assertThat(run("volume", "delete", "web")).isZero();
    assertThat(run("volume", "delete", "web")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err).contains("volume 'web' does not exist");
  }

  @Test
  void wrongArgumentsPrintUsageAndOneLineReason() {
    run("init");
    assertThat(run("volume", "create-block", "v", "ten-gigs")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.lines().findFirst()).hasValueSatisfying(l -> assertThat(l).contains("invalid size 'ten-gigs'"));
    assertThat(err).contains("Usage:");
    assertThat(run("volume", "create-block", "v")).isEqualTo(ExitCodes.USAGE);
    assertThat(err).contains("Missing required parameter");
    assertThat(run("volume", "frobnicate")).isEqualTo(ExitCodes.USAGE);
    assertThat(run("block", "snapshot", "create", "novolume")).isEqualTo(ExitCodes.USAGE);
    assertThat(err).contains("VOLUME@SNAPSHOT");
    for (String bad : new String[] {"a/b", "..", "-x"}) {
      int code = run("volume", "create-block", bad, "1GiB");
      assertThat(code).as(bad).isIn(ExitCodes.USAGE, ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    }
    assertThat(run("volume", "create-block", "", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("name is empty");
    assertThat(run("volume", "list")).isZero();
    assertThat(out.lines()).hasSize(1);
  }

  @Test
  void snapshotsAndClones() {
    run("init");
    run("volume", "create-block", "v", "1GiB");
    assertThat(run("block", "snapshot", "create", "v@monday")).isZero();
    assertThat(run("block", "snapshot", "create", "v@monday")).isEqualTo(ExitCodes.of(ErrorCode.ALREADY_EXISTS));
    assertThat(run("block", "snapshot", "create", "v@tuesday")).isZero();
    assertThat(run("block", "snapshot", "list", "v")).isZero();
    assertThat(out).containsPattern("(?s)monday.*tuesday");
    assertThat(run("block", "clone", "v@monday", "v2")).isZero();
    assertThat(out).contains("Cloned v@monday to volume v2");
    assertThat(run("volume", "list")).isZero();
    assertThat(out).containsPattern("v2\\s+1 GiB\\s+free\\s+\\S+\\s+v@monday");
    assertThat(run("block", "snapshot", "restore", "v@tuesday")).isZero();
    assertThat(run("block", "snapshot", "delete", "v@monday")).isZero();
    assertThat(run("block", "snapshot", "delete", "v@monday")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(run("block", "snapshot", "restore", "nope@x")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
  }

  @Test
  void wipeNeedsConfirmationAndThenDeletesEverything() {
    run("init");
    run("volume", "create-block", "v", "1GiB");
    assertThat(run("wipe")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.lines().findFirst()).hasValue(
        "torusctl: wipe deletes all Torus metadata; confirm with --yes-i-am-sure");
    assertThat(run("volume", "list")).isZero();
    assertThat(out).as("nothing was wiped").contains("v");
    assertThat(run("wipe", "--yes-i-am-sure")).isZero();
    assertThat(out).contains("Wiped all Torus metadata at ").contains("torusctl init");
    assertThat(run("volume", "list")).isEqualTo(ExitCodes.of(ErrorCode.NOT_INITIALIZED));
    assertThat(run("init")).as("a wiped cluster can start again").isZero();
    assertThat(run("volume", "list")).isZero();
    assertThat(out.lines()).hasSize(1);
  }

  @Test
  void anUnregisteredPeerIsNamedWithWhatToDo() {
    run("init");
    assertThat(run("peer", "add", "1.2.3.4")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err.strip()).isEqualTo("torusctl: peer 1.2.3.4 is not registered; start torusd"
        + " there with --peer-address first, and see the registered peers with 'torusctl list-peers'");
    assertThat(run("peer", "remove", "1.2.3.4")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err.strip()).isEqualTo("torusctl: peer 1.2.3.4 is not registered; see the"
        + " registered peers with 'torusctl list-peers', or remove a dead peer from the ring by"
        + " its uuid with --force");
  }

  @Test
  void addingAllPeersWhenNoneIsRegisteredSaysSo() {
    run("init");
    assertThat(run("peer", "add", "--all-peers")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err.strip()).isEqualTo(
        "torusctl: no peers are registered; start torusd with --peer-address first");
  }

  @Test
  void configWritesUpdatesAndShowsProfiles(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("torus/config.json");
    String config = "--config=" + file;
    assertThat(run(config, "config", "--view")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err).contains(file + " does not exist");
    assertThat(run(config, "config")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.lines().findFirst())
        .hasValueSatisfying(l -> assertThat(l).contains("nothing to save"));
    assertThat(Files.exists(file)).isFalse();

    assertThat(run(config, "config", "-C", "10.0.0.1:2379,10.0.0.2:2379")).isZero();
    assertThat(out)
        .contains("Saved profile 'default' in " + file + ": etcd 10.0.0.1:2379,10.0.0.2:2379");
    assertThat(run("config", config, "--profile", "laptop", "--metadata", "rel/meta.db")).isZero();
    assertThat(run(config, "config", "--view")).isZero();
    assertThat(out).isEqualTo(Files.readString(file))
        .contains("\"etcd\": \"10.0.0.1:2379,10.0.0.2:2379\"")
        .contains("\"metadata\": \"" + Path.of("rel/meta.db").toAbsolutePath() + "\"");

    Path cert = Files.writeString(dir.resolve("c.pem"), "c");
    assertThat(run(config, "config", "--etcd-cert-file", cert.toString()))
        .as("TLS files go together")
        .isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("missing: key, CA");
    assertThat(run(config, "config", "-C", "no-port"))
        .isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("bad etcd endpoint 'no-port'");
    assertThat(ConfigFile.read(file).profile("default")).as("a refused update changes nothing")
        .contains(new ConnectionProfile("10.0.0.1:2379,10.0.0.2:2379", null, null, null, null));

    assertThat(run(config, "config", "--profile", "laptop", "-C", "127.0.0.1:2379")).isZero();
    assertThat(ConfigFile.read(file).profile("laptop")).as("-C replaces the embedded file")
        .contains(new ConnectionProfile("127.0.0.1:2379", null, null, null, null));

    Files.writeString(file, "{\"etcd_config\": {\"default\": {\"etcd\": \"a:1\"}}, }");
    assertThat(run(config, "config", "--view")).isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err.strip()).isEqualTo("torusctl: " + file
        + ":1:47: malformed JSON: expected a member name in double quotes");
  }
}
