package dev.torus.metadata.etcd;

import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.CompareFailedException;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeRoot;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two clients (two connections, as two hosts would have) racing for the same thing on one etcd:
 * exactly one wins every round, and the other learns why.
 */
final class EtcdRaceIT {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();
  private static final int ROUNDS = 20;

  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private MetadataService first;
  private MetadataService second;

  @BeforeEach
  void connectTwoClients() {
    EtcdConfig config = EtcdConfig.of(ETCD.etcd().hostPort())
        .withRootPrefix("/torus-" + UUID.randomUUID());
    first = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler);
    second = EtcdMetadata.connect(config, Clock.systemUTC(), scheduler);
    join(first.initialize(new GlobalMetadata(65536, GlobalMetadata.CRC32C),
        Rings.mod(1, 1, List.of(new RingMember(new PeerId("p0"), 100)))));
  }

  @AfterEach
  void close() {
    first.close();
    second.close();
    scheduler.shutdownNow();
  }

  /** Both outcomes: the value, or the failure. */
  private record Outcome<T>(T value, TorusException failure) {
    static <T> Outcome<T> of(CompletableFuture<T> f) {
      try {
        return new Outcome<>(join(f), null);
      } catch (TorusException e) {
        return new Outcome<>(null, e);
      }
    }
  }

  /** Starts both calls before waiting for either; returns the outcomes in order. */
  private static <T> List<Outcome<T>> race(CompletableFuture<T> a, CompletableFuture<T> b) {
    return List.of(Outcome.of(a), Outcome.of(b));
  }

  private static <T> TorusException loser(List<Outcome<T>> outcomes) {
    assertThat(outcomes).filteredOn(o -> o.failure() == null).as("exactly one winner").hasSize(1);
    return outcomes.stream().filter(o -> o.failure() != null).findFirst().orElseThrow().failure();
  }

  @Test
  void creatingTheSameVolume() {
    for (int i = 0; i < ROUNDS; i++) {
      String name = "vol-" + i;
      TorusException lost = loser(race(first.volumes().create(name, VolumeRoot.empty(1, 1)),
          second.volumes().create(name, VolumeRoot.empty(2, 1))));
      assertThat(lost.code()).isEqualTo(ErrorCode.ALREADY_EXISTS);
      assertThat(lost).hasMessageContaining("'" + name + "'");
    }
    assertThat(join(first.volumes().list())).hasSize(ROUNDS);
    assertThat(join(second.view()).lastVolumeId()).as("no id was handed out twice")
        .isEqualTo(ROUNDS);
  }

  @Test
  void takingTheSameLock() {
    VolumeId id = join(first.volumes().create("v", VolumeRoot.empty(1, 1))).id();
    long leaseA = join(first.leases().grant(Duration.ofSeconds(30)));
    long leaseB = join(second.leases().grant(Duration.ofSeconds(30)));
    List<Long> sessions = new ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      List<Outcome<VolumeLock>> outcomes = race(first.volumes().lock(id, leaseA, "host-a"),
          second.volumes().lock(id, leaseB, "host-b"));
      TorusException lost = loser(outcomes);
      VolumeLock won = outcomes.stream().filter(o -> o.failure() == null).findFirst().orElseThrow()
          .value();
      assertThat(lost.code()).isEqualTo(ErrorCode.LOCKED);
      assertThat(lost).hasMessageContaining(won.owner());
      sessions.add(won.session());
      join(first.volumes().unlock(won));
    }
    assertThat(sessions).as("every lock got a new session").doesNotHaveDuplicates();
  }

  @Test
  void changingTheRing() {
    for (int i = 0; i < ROUNDS; i++) {
      Versioned<Ring> current = join(first.rings().current());
      Ring byA = current.value().withReplication(1 + i % 2);
      Ring byB = current.value().withMembers(
          List.of(new RingMember(new PeerId("p" + (i + 1)), 10)));
      List<Outcome<Versioned<Ring>>> outcomes = race(
          first.rings().compareAndSet(byA, current.revision()),
          second.rings().compareAndSet(byB, current.revision()));
      TorusException lost = loser(outcomes);
      assertThat(lost).isInstanceOf(CompareFailedException.class);
      Versioned<Ring> won = outcomes.stream().filter(o -> o.failure() == null).findFirst()
          .orElseThrow().value();
      CompareFailedException cas = (CompareFailedException) lost;
      assertThat(cas.expectedRevision()).isEqualTo(current.revision());
      if (cas.actualRevision() != 0) { // 0 only if it lost before reading the winner's write
        assertThat(cas.actualRevision()).isEqualTo(won.revision());
      }
      Versioned<Ring> now = join(second.rings().current());
      assertThat(now.revision()).isEqualTo(won.revision());
      assertThat(now.value().describe()).isEqualTo(won.value().describe());
    }
    assertThat(join(first.rings().current()).value().version()).isEqualTo(1 + ROUNDS);
  }

  @Test
  void losersSeeNoHalfOfTheWinnersChange() {
    // A create writes five keys in one transaction; a concurrent view sees all or none of them.
    for (int i = 0; i < ROUNDS; i++) {
      CompletableFuture<?> create = first.volumes().create("whole-" + i, VolumeRoot.empty(1, 1));
      try {
        join(second.view()); // fails with CORRUPTED if a volume were half there
      } catch (TorusException e) {
        throw TorusExceptions.internal("a view saw half a volume: " + e.getMessage(), e);
      }
      join(create);
    }
  }
}
