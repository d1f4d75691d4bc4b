package dev.torus.metadata.etcd;

import static dev.torus.TorusAssertions.assertCode;
import static dev.torus.TorusAssertions.eventually;
import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.VolumeId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.LockInfo;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeRoot;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * etcd going away under a running client: killed and restarted, cut off by a partition, down for
 * longer than a lease, compacted while a watcher could not listen. Calls fail cleanly within
 * their deadline, the client recovers, nothing committed is lost, and a writer that lost its
 * lease can never commit again.
 */
final class EtcdOutageIT {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration SHORT_TTL = Duration.ofSeconds(2);
  private static final GlobalMetadata GLOBAL = new GlobalMetadata(65536, GlobalMetadata.CRC32C);

  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  private MetadataService connect(String hostPort, String root) {
    EtcdConfig config = EtcdConfig.of(hostPort).withRootPrefix(root).withCallTimeout(CALL_TIMEOUT)
        .withConnectTimeout(Duration.ofSeconds(1));
    return EtcdMetadata.connect(config, Clock.systemUTC(), scheduler);
  }

  private static String newRoot() {
    return "/torus-" + UUID.randomUUID();
  }

  private static void initialise(MetadataService m) {
    join(m.initialize(GLOBAL, Rings.mod(1, 1, List.of(new RingMember(new PeerId("p0"), 100)))));
  }

  private LeaseKeeper keeper(MetadataService m, Duration ttl) {
    return join(LeaseKeeper.start(m.leases(), ttl, scheduler, System::nanoTime));
  }

  /** Adds one to the volume's size; returns the new size. */
  private static long increment(MetadataService m, VolumeLock lock) {
    Versioned<VolumeRoot> root = join(m.volumes().root(lock.volume()));
    long next = root.value().size() + 1;
    join(m.volumes().commit(lock, root.revision(), VolumeRoot.empty(next, 1)));
    return next;
  }

  private static Versioned<Ring> nextRing(MetadataService m) {
    Versioned<Ring> current = join(m.rings().current());
    Ring next = current.value().withMembers(
        List.of(new RingMember(new PeerId("p" + current.value().version()), 10)));
    return join(m.rings().compareAndSet(next, current.revision()));
  }

  @Test
  void etcdKilledAndRestartedUnderAWriterLosesNothingCommitted() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start();
        MetadataService m = connect(etcd.hostPort(), newRoot())) {
      initialise(m);
      VolumeId shared = join(m.volumes().create("shared", VolumeRoot.empty(0, 1))).id();
      List<Versioned<Ring>> rings = new CopyOnWriteArrayList<>();
      try (LeaseKeeper keeper = keeper(m, Duration.ofSeconds(15));
          Subscription sub = m.rings().watch(rings::add)) {
        VolumeLock lock = join(m.volumes().lock(shared, keeper.leaseId(), "writer"));
        Set<String> ackedVolumes = ConcurrentHashMap.newKeySet();
        AtomicLong ackedSize = new AtomicLong();
        List<String> badFailures = new CopyOnWriteArrayList<>();
        AtomicLong failures = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
          for (int i = 0; !stop.get(); i++) {
            try {
              String name = "v" + i;
              ackedVolumes.add(checked(badFailures,
                  () -> join(m.volumes().create(name, VolumeRoot.empty(1, 1)))).name());
              Versioned<VolumeRoot> root =
                  checked(badFailures, () -> join(m.volumes().root(shared)));
              long next = root.value().size() + 1;
              checked(badFailures, () -> join(m.volumes().commit(lock, root.revision(),
                  VolumeRoot.empty(next, 1))));
              ackedSize.set(next);
            } catch (TorusException e) {
              failures.incrementAndGet();
              sleep(50);
            }
          }
        });
        writer.start();
        eventually(() -> ackedVolumes.size() >= 10, Duration.ofSeconds(30));
        etcd.kill();
        Thread.sleep(3000);
        assertThat(failures.get()).as("calls during the outage fail").isPositive();
        etcd.restart();
        int before = ackedVolumes.size();
        eventually(() -> ackedVolumes.size() >= before + 10, Duration.ofSeconds(30));
        stop.set(true);
        writer.join();

        assertThat(badFailures).as("failures were clean and within the deadline").isEmpty();
        assertThat(keeper.isValid()).as("the outage was shorter than the lease").isTrue();
        List<String> names = join(m.volumes().list()).stream().map(VolumeInfo::name).toList();
        assertThat(names).as("every acknowledged create survived").containsAll(ackedVolumes);
        assertThat(join(m.view()).volumes()).as("no volume is half there").hasSize(names.size());
        assertThat(join(m.volumes().root(shared)).value().size())
            .isGreaterThanOrEqualTo(ackedSize.get());
        assertThat(join(m.volumes().lockStatus(shared))).map(LockInfo::owner).contains("writer");

        Versioned<Ring> changed = nextRing(m);
        eventually(() -> rings.get(rings.size() - 1).revision() == changed.revision(),
            Duration.ofSeconds(30));
      }
    }
  }

  @Test
  void aPartitionedWriterIsFencedAndAnotherTakesTheVolume() throws Exception {
    String root = newRoot();
    try (TcpProxy proxy = new TcpProxy(ETCD.etcd().clientPort());
        MetadataService cutOff = connect(proxy.hostPort(), root);
        MetadataService other = connect(ETCD.etcd().hostPort(), root)) {
      initialise(other);
      VolumeId id = join(other.volumes().create("v", VolumeRoot.empty(0, 1))).id();
      try (LeaseKeeper oldKeeper = keeper(cutOff, SHORT_TTL);
          LeaseKeeper newKeeper = keeper(other, Duration.ofSeconds(30))) {
        VolumeLock old = join(cutOff.volumes().lock(id, oldKeeper.leaseId(), "old-writer"));
        assertThat(increment(cutOff, old)).isEqualTo(1);

        proxy.cut();
        eventually(() -> !oldKeeper.isValid(), SHORT_TTL.plusSeconds(3));
        assertCode(ErrorCode.LOCKED, oldKeeper::checkValid);
        VolumeLock taken = lockWhenFree(other, id, newKeeper.leaseId(), "new-writer");
        assertThat(increment(other, taken)).isEqualTo(2);

        proxy.restore();
        Versioned<VolumeRoot> seenByOld =
            eventuallyReachable(() -> join(cutOff.volumes().root(id)));
        assertCode(ErrorCode.LOCKED, () -> join(cutOff.volumes().commit(old, seenByOld.revision(),
            VolumeRoot.empty(99, 1))));
        join(cutOff.volumes().unlock(old)); // a stale unlock leaves the new holder alone
        assertThat(join(other.volumes().lockStatus(id))).map(LockInfo::owner)
            .contains("new-writer");
        assertThat(join(other.volumes().root(id)).value().size()).isEqualTo(2);
      }
    }
  }

  @Test
  void etcdDownLongerThanTheLeaseFencesTheWriter() throws Exception {
    String root = newRoot();
    try (EtcdProcess etcd = EtcdProcess.start();
        MetadataService m = connect(etcd.hostPort(), root)) {
      initialise(m);
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(0, 1))).id();
      try (LeaseKeeper oldKeeper = keeper(m, SHORT_TTL)) {
        VolumeLock old = join(m.volumes().lock(id, oldKeeper.leaseId(), "old-writer"));
        increment(m, old);
        etcd.kill();
        eventually(() -> !oldKeeper.isValid(), SHORT_TTL.plusSeconds(3));
        etcd.restart();
        // etcd gives every lease a fresh TTL when it restarts, so the old lock lingers for up to
        // one more TTL; the old writer, having lost its lease, no longer renews it.
        try (MetadataService successor = connect(etcd.hostPort(), root);
            LeaseKeeper newKeeper = keeper(successor, Duration.ofSeconds(30))) {
          VolumeLock taken = lockWhenFree(successor, id, newKeeper.leaseId(), "new-writer");
          assertThat(increment(successor, taken)).isEqualTo(2);
          Versioned<VolumeRoot> now = join(m.volumes().root(id));
          assertCode(ErrorCode.LOCKED, () -> join(m.volumes().commit(old, now.revision(),
              VolumeRoot.empty(99, 1))));
        }
      }
    }
  }

  @Test
  void aCompactionWhileAWatcherIsCutOffLosesNoRingChange() throws Exception {
    String root = newRoot();
    List<Versioned<Ring>> seen = new CopyOnWriteArrayList<>();
    try (TcpProxy proxy = new TcpProxy(ETCD.etcd().clientPort());
        MetadataService watcher = connect(proxy.hostPort(), root);
        MetadataService writer = connect(ETCD.etcd().hostPort(), root)) {
      initialise(writer);
      try (Subscription sub = watcher.rings().watch(seen::add)) {
        eventually(() -> seen.size() == 1, Duration.ofSeconds(10));
        proxy.cut();
        Versioned<Ring> last = null;
        for (int i = 0; i < 5; i++) {
          last = nextRing(writer);
        }
        ETCD.etcd().etcdctl("compact", Long.toString(last.revision()));
        proxy.restore();
        long latest = last.revision();
        eventually(() -> seen.get(seen.size() - 1).revision() == latest, Duration.ofSeconds(30));
        assertThat(seen.get(seen.size() - 1).value().version()).isEqualTo(6);

        Versioned<Ring> after = nextRing(writer); // and the watch goes on from there
        eventually(() -> seen.get(seen.size() - 1).revision() == after.revision(),
            Duration.ofSeconds(10));
        for (int i = 1; i < seen.size(); i++) {
          assertThat(seen.get(i).revision()).isGreaterThan(seen.get(i - 1).revision());
          assertThat(seen.get(i).value().version())
              .isGreaterThan(seen.get(i - 1).value().version());
        }
      }
    }
  }

  /**
   * Runs one call; a failure that is not UNAVAILABLE or TIMEOUT, or that took longer than the
   * call timeout (plus a second of slack for a loaded machine), is recorded in {@code bad}.
   */
  private static <T> T checked(List<String> bad, Supplier<T> call) {
    long start = System.nanoTime();
    try {
      return call.get();
    } catch (TorusException e) {
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      if ((e.code() != ErrorCode.UNAVAILABLE && e.code() != ErrorCode.TIMEOUT)
          || took.compareTo(CALL_TIMEOUT.plusSeconds(1)) > 0) {
        bad.add(e.code() + " after " + took + ": " + e.getMessage());
      }
      throw e;
    }
  }

  /** Takes the lock as soon as the previous holder's lease has expired. */
  private static VolumeLock lockWhenFree(MetadataService m, VolumeId id, long lease, String owner)
      throws InterruptedException {
    long deadline = System.nanoTime() + SHORT_TTL.plusSeconds(10).toNanos();
    while (true) {
      try {
        return join(m.volumes().lock(id, lease, owner));
      } catch (TorusException e) {
        if (System.nanoTime() > deadline || (e.code() != ErrorCode.LOCKED
            && e.code() != ErrorCode.UNAVAILABLE && e.code() != ErrorCode.TIMEOUT)) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  /** Retries a read until the client has reconnected. */
  private static <T> T eventuallyReachable(Supplier<T> read)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        return read.get();
      } catch (TorusException e) {
        if (System.nanoTime() > deadline || (e.code() != ErrorCode.UNAVAILABLE
            && e.code() != ErrorCode.TIMEOUT)) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
