package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.metadata.etcd.EtcdProcessExtension;
import dev.torus.server.options.ExitCodes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every metadata command of torusctl against a real etcd with {@code -C}, run in this JVM through
 * the real client factory; and what an operator meets: a cluster nobody initialised, values under
 * the Torus prefix that Torus did not write. etcdctl checks that the keys really are in etcd.
 */
final class TorusCtlEtcdIT {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();

  static Processes.Result ctl(String... args) {
    List<String> all = new ArrayList<>(List.of("-C", ETCD.etcd().hostPort()));
    all.addAll(List.of(args));
    return InProcess.torusctl(new DefaultClientFactory("torusctl"), all.toArray(String[]::new));
  }

  static String torusKeys() {
    return ETCD.etcd().etcdctl("get", "--prefix", "--keys-only", "/torus/");
  }

  @BeforeEach
  void startFromNothing() {
    ctl("wipe", "--yes-i-am-sure").ok("wipe");
    assertThat(torusKeys()).isBlank();
  }

  @Test
  void volumesSnapshotsClonesAndTheRingLiveInEtcd() {
    String at = "etcd http://" + ETCD.etcd().hostPort();
    assertThat(ctl("init", "--block-size", "16KiB", "--replication", "1").ok("init").out())
        .contains("Initialised " + at + ": block size 16 KiB, mod ring");
    assertThat(ctl("init").exits(ExitCodes.of(ErrorCode.ALREADY_EXISTS), "init again").err())
        .contains("already initialised").contains("torusctl wipe");
    assertThat(ctl("init", "--view").ok("init --view").out())
        .contains("Block size: 16384 bytes").contains("Block spec: crc32c")
        .contains("Metadata: " + at);

    ctl("volume", "create-block", "db", "10GiB").ok("create db");
    ctl("block", "create", "web", "512MiB").ok("create web");
    assertThat(ctl("volume", "list", "-o", "csv", "--bytes").ok("list").out())
        .contains("db,10737418240,free").contains("web,536870912,free");
    assertThat(ctl("volume", "resize", "db", "20GiB").ok("resize").out()).contains("now 20 GiB");
    assertThat(ctl("volume", "resize", "db", "1GiB")
        .exits(ExitCodes.of(ErrorCode.INVALID_ARGUMENT), "shrink").err()).contains("shrinking");

    ctl("block", "snapshot", "create", "db@monday").ok("snapshot monday");
    ctl("block", "snapshot", "create", "db@tuesday").ok("snapshot tuesday");
    ctl("block", "snapshot", "create", "db@monday").exits(ExitCodes.of(ErrorCode.ALREADY_EXISTS),
        "snapshot monday again");
    assertThat(ctl("block", "snapshot", "list", "db").ok("snapshot list").out())
        .containsPattern("(?s)monday.*tuesday");
    assertThat(ctl("block", "clone", "db@monday", "db2").ok("clone").out())
        .contains("Cloned db@monday to volume db2");
    assertThat(ctl("volume", "list").ok("list").out())
        .containsPattern("db2\\s+20 GiB\\s+free\\s+\\S+\\s+db@monday");
    ctl("block", "snapshot", "restore", "db@tuesday").ok("restore");
    ctl("block", "snapshot", "delete", "db@monday").ok("delete snapshot");
    ctl("block", "snapshot", "delete", "db@monday").exits(ExitCodes.of(ErrorCode.NOT_FOUND),
        "delete snapshot again");
    ctl("volume", "delete", "web").ok("delete web");
    assertThat(ctl("volume", "delete", "web").exits(ExitCodes.of(ErrorCode.NOT_FOUND), "again")
        .err()).contains("volume 'web' does not exist");

    assertThat(ctl("ring", "get").ok("ring get").out()).contains("Ring: mod")
        .contains("Version: 1").contains("Replication: 1");
    assertThat(ctl("ring", "set-replication", "2").ok("set-replication").out())
        .contains("Ring is now version 2 with replication 2");
    assertThat(ctl("ring", "get").ok("ring get").out()).contains("Replication: 2");
    assertThat(ctl("list-peers").ok("list-peers").out()).startsWith("ADDRESS").contains("Balanced");
    assertThat(ctl("peer", "add", "no-such-peer").exits(ExitCodes.of(ErrorCode.NOT_FOUND),
        "add an unknown peer").err()).contains("peer no-such-peer is not registered");

    assertThat(torusKeys()).contains("/torus/v1/names/db\n").contains("/torus/v1/names/db2\n")
        .doesNotContain("/torus/v1/names/web");
    ctl("wipe").exits(ExitCodes.USAGE, "wipe without confirmation");
    assertThat(torusKeys()).as("a refused wipe deletes nothing").contains("/torus/v1/names/db\n");
    assertThat(ctl("wipe", "--yes-i-am-sure").ok("wipe").out())
        .isEqualTo("Wiped all Torus metadata at " + at + "; run 'torusctl init' to start again\n");
    assertThat(torusKeys()).isBlank();
  }

  @Test
  void anUninitialisedClusterSaysRunInitAndExits23() {
    for (String[] command : List.of(new String[] {"volume", "list"},
        new String[] {"volume", "create-block", "v", "1GiB"}, new String[] {"ring", "get"},
        new String[] {"list-peers"}, new String[] {"init", "--view"})) {
      Processes.Result r = ctl(command)
          .exits(ExitCodes.of(ErrorCode.NOT_INITIALIZED), String.join(" ", command));
      assertThat(r.err().lines()).singleElement().satisfies(l -> assertThat(l)
          .startsWith("torusctl: no Torus cluster at etcd http://" + ETCD.etcd().hostPort())
          .endsWith("run 'torusctl init' first"));
    }
  }

  @Test
  void foreignValuesUnderThePrefixAreCorruptedNamingTheKey() {
    ctl("init", "--replication", "1").ok("init");
    ctl("volume", "create-block", "good", "1GiB").ok("create");
    ETCD.etcd().etcdctl("put", "/torus/v1/ring/current", "{\"version\":2,\"type\":\"mod\"}");
    ETCD.etcd().etcdctl("put", "/torus/v1/names/bad", "x");
    for (String[] command : List.of(new String[] {"ring", "get"},
        new String[] {"volume", "delete", "bad"}, new String[] {"block", "clone", "bad@s", "b2"})) {
      Processes.Result r = ctl(command)
          .exits(ExitCodes.of(ErrorCode.CORRUPTED), String.join(" ", command));
      assertThat(r.err().lines()).singleElement().satisfies(l -> assertThat(l)
          .startsWith("torusctl: ").containsPattern("/torus/v1/(ring/current|names/bad)"));
    }
    assertThat(ctl("volume", "list").ok("the good volume is still listed").out()).contains("good");
  }
}
