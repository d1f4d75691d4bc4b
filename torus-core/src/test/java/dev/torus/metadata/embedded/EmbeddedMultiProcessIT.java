package dev.torus.metadata.embedded;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.PeerId;
import dev.torus.VolumeId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeRoot;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several processes on one embedded metadata file, as torusd, torusctl and torusblk share it:
 * every outcome exactly once, and a writer killed with SIGKILL loses nothing it acknowledged.
 */
final class EmbeddedMultiProcessIT {
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
  private final List<Process> children = new ArrayList<>();
  @TempDir Path dir;
  private Path file;

  @BeforeEach
  void initialise() {
    file = dir.resolve("metadata.db");
    try (MetadataService m = open()) {
      join(m.initialize(new GlobalMetadata(65536, GlobalMetadata.CRC32C),
          Rings.single(1, new RingMember(new PeerId("p1"), 100))));
      join(m.volumes().create("shared", VolumeRoot.empty(0, 1)));
    }
  }

  @AfterEach
  void cleanUp() {
    children.forEach(Process::destroyForcibly);
    scheduler.shutdownNow();
  }

  private MetadataService open() {
    return EmbeddedMetadata.open(file, Clock.systemUTC(), scheduler);
  }

  private Process worker(String id, int count, boolean create) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        EmbeddedWorker.class.getName(), file.toString(), id, Integer.toString(count),
        Boolean.toString(create))
        .redirectError(dir.resolve(id + ".err").toFile())
        .start();
    children.add(p);
    return p;
  }

  private List<String> finish(Process p, String id) throws Exception {
    List<String> lines;
    try (BufferedReader out = reader(p)) {
      lines = out.lines().toList();
    }
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("worker %s failed: %s", id,
        Files.readString(dir.resolve(id + ".err"))).isZero();
    return lines;
  }

  private static BufferedReader reader(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  @Test
  void twoProcessesOnOneFileGetEveryOutcomeExactlyOnce() throws Exception {
    int perWorker = 40;
    Process a = worker("a", perWorker, true);
    Process b = worker("b", perWorker, true);
    List<String> lines = new ArrayList<>(finish(a, "a"));
    lines.addAll(finish(b, "b"));

    Map<String, Long> created = new HashMap<>();
    List<Long> acks = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f[0].equals("created")) {
        created.put(f[1], Long.parseLong(f[2]));
      } else {
        acks.add(Long.parseLong(f[1]));
      }
    }
    assertThat(created).hasSize(2 * perWorker);
    assertThat(new HashSet<>(created.values())).as("volume ids are unique").hasSize(2 * perWorker);
    assertThat(acks).as("each increment saw the one before it, none was lost or doubled")
        .containsExactlyInAnyOrderElementsOf(
            LongStream.rangeClosed(1, 2L * perWorker).boxed().toList());
    try (MetadataService m = open()) {
      List<VolumeInfo> volumes = join(m.volumes().list());
      assertThat(volumes).hasSize(2 * perWorker + 1);
      for (VolumeInfo v : volumes) {
        if (!v.name().equals("shared")) {
          assertThat(v.id().value()).isEqualTo(created.get(v.name()));
        }
      }
      VolumeId shared = join(m.volumes().get("shared")).id();
      assertThat(join(m.volumes().root(shared)).value().size()).isEqualTo(2L * perWorker);
      assertThat(join(m.volumes().lockStatus(shared))).isEmpty();
    }
  }

  @Test
  void aWriterKilledMidWorkloadLosesNothingAcknowledged() throws Exception {
    Process victim = worker("victim", 1_000_000, false);
    Process other = worker("other", 30, true); // contends for the lock and the file meanwhile
    long lastAck = 0;
    try (BufferedReader out = reader(victim)) {
      while (lastAck < 50) {
        String line = out.readLine();
        assertThat(line).as("victim died early: %s",
            Files.readString(dir.resolve("victim.err"))).isNotNull();
        lastAck = Long.parseLong(line.split(" ")[1]);
      }
      victim.destroyForcibly(); // SIGKILL, mid-transaction or not
      assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    List<String> otherLines = finish(other, "other");
    long otherAcks = otherLines.stream().filter(l -> l.startsWith("ack")).count();
    assertThat(otherAcks).isEqualTo(30);

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("ok");
    }
    try (MetadataService m = open();
        LeaseKeeper keeper = join(LeaseKeeper.start(m.leases(), Duration.ofSeconds(10), scheduler,
            System::nanoTime))) {
      VolumeId shared = join(m.volumes().get("shared")).id();
      long size = join(m.volumes().root(shared)).value().size();
      long maxAcked = otherLines.stream().filter(l -> l.startsWith("ack"))
          .mapToLong(l -> Long.parseLong(l.split(" ")[1])).max().orElse(0);
      assertThat(size).as("everything acknowledged survived the kill")
          .isGreaterThanOrEqualTo(Math.max(lastAck, maxAcked));
      long start = System.nanoTime();
      long next = EmbeddedWorker.increment(m, shared, keeper, "survivor");
      assertThat(next).isEqualTo(size + 1);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("the dead writer's lock goes with its lease")
          .isLessThan(EmbeddedWorker.LEASE_TTL.plusSeconds(5));
    }
  }
}
