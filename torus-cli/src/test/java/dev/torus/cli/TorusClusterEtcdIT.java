package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.metadata.etcd.EtcdProcessExtension;
import dev.torus.server.options.ExitCodes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * torusd, torusctl and torusblk as real processes on a real etcd: a node started with {@code -C}
 * joins and serves data loaded and dumped through the CLI; the ring and peer commands see it.
 * Failures print exactly one line on stderr (no stack trace, no library logging) with the
 * documented exit code: etcd unreachable, cluster not initialised, a damaged key.
 */
final class TorusClusterEtcdIT {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();

  /** JVM start, a few connection attempts and the 5 s call deadline, with room for a slow CI. */
  static final Duration UNREACHABLE_LIMIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  String etcd() {
    return "--etcd=" + ETCD.etcd().hostPort();
  }

  @BeforeEach
  void startFromNothing() {
    InProcess.torusctl(new DefaultClientFactory("torusctl"), etcd(), "wipe", "--yes-i-am-sure").ok("wipe");
  }

  @Test
  void aNodeJoinsThroughEtcdAndServesLoadAndDump() throws Exception {
    Processes.torusctl(dir, etcd(), "init", "--replication", "1").ok("init");
    try (Processes.Node node = new Processes.Node(dir.resolve("n1"), etcd(), "--auto-join")
        .start()) {
      assertThat(node.log()).contains("metadata etcd http://" + ETCD.etcd().hostPort());
      byte[] data = new byte[3_000_017];
      new Random(7).nextBytes(data);
      Path input = Files.write(dir.resolve("in.bin"), data);
      Processes.torusctl(dir, etcd(), "block", "load", input.toString(), "vol").ok("load");
      Path output = dir.resolve("out.bin");
      Processes.torusctl(dir, "-C", ETCD.etcd().hostPort(), "block", "dump", "vol",
          output.toString()).ok("dump");
      assertThat(Files.readAllBytes(output)).isEqualTo(data);

      String peers = Processes.torusctl(dir, etcd(), "list-peers").ok("list-peers").out();
      assertThat(peers.lines().filter(l -> l.contains(node.id)).findFirst())
          .hasValueSatisfying(l -> assertThat(l).contains(node.address).contains("OK"));
      assertThat(Processes.torusctl(dir, etcd(), "peer", "remove", node.id).ok("peer remove").out())
          .contains("with 0 peers");
      assertThat(Processes.torusctl(dir, etcd(), "peer", "add", node.address).ok("peer add").out())
          .contains("with 1 peers");
      assertThat(Processes.torusctl(dir, etcd(), "ring", "get").ok("ring get").out())
          .contains(node.id);
      assertThat(node.stop()).isIn(0, 143);
    }
  }

  @Test
  void unreachableEtcdIsOneLineNamingTheEndpointWellWithinATimeout() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    String endpoint = "127.0.0.1:" + port;
    for (String main : List.of("dev.torus.cli.TorusCtl", "dev.torus.cli.TorusBlk",
        "dev.torus.server.TorusDaemon")) {
      List<String> args = new ArrayList<>(List.of("-C", endpoint));
      args.addAll(switch (main) {
        case "dev.torus.cli.TorusCtl" -> List.of("volume", "list");
        case "dev.torus.cli.TorusBlk" -> List.of("nbdserve", "--listen", "127.0.0.1:0");
        default -> List.of("--data-dir", dir.resolve("node").toString(),
            "--peer-address", "tcp://127.0.0.1:0");
      });
      long start = System.nanoTime();
      Processes.Result r = Processes.run(dir, main, args)
          .exits(ExitCodes.of(ErrorCode.UNAVAILABLE), main);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as(main)
          .isLessThan(UNREACHABLE_LIMIT);
      assertThat(r.err().lines()).as(main).singleElement().satisfies(l -> assertThat(l)
          .matches("torus(ctl|blk|d): etcd at http://" + endpoint + " is unavailable .*")
          .contains("Connection refused"));
    }
  }

  @Test
  void uninitialisedAndDamagedClustersAreOneLineWithTheirExitCodes() {
    Processes.Result uninit = Processes.torusctl(dir, etcd(), "volume", "list")
        .exits(ExitCodes.of(ErrorCode.NOT_INITIALIZED), "list before init");
    assertThat(uninit.err().lines()).singleElement()
        .satisfies(l -> assertThat(l).contains("run 'torusctl init'"));
    Processes.Result node = Processes.run(dir, "dev.torus.server.TorusDaemon", List.of(etcd(),
        "--data-dir", dir.resolve("node").toString(), "--peer-address", "tcp://127.0.0.1:0"))
        .exits(ExitCodes.of(ErrorCode.NOT_INITIALIZED), "torusd before init");
    assertThat(node.err()).contains("run 'torusctl init'");

    Processes.torusctl(dir, etcd(), "init").ok("init");
    ETCD.etcd().etcdctl("put", "/torus/v1/ring/current", "not a ring");
    Processes.Result damaged = Processes.torusctl(dir, etcd(), "ring", "get")
        .exits(ExitCodes.of(ErrorCode.CORRUPTED), "ring get on a damaged ring");
    assertThat(damaged.err().lines()).singleElement()
        .satisfies(l -> assertThat(l).startsWith("torusctl: ").contains("/torus/v1/ring/current"));
  }
}
