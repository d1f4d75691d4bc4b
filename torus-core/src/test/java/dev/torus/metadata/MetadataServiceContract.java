package dev.torus.metadata;

import static dev.torus.TorusAssertions.assertCode;
import static dev.torus.TorusAssertions.eventually;
import static dev.torus.internal.concurrent.Futures.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.CompareFailedException;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.VolumeId;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link MetadataService} must have. Implementations supply a fresh,
 * uninitialised service per test.
 */
public interface MetadataServiceContract {
  /** A new, empty, uninitialised service; the test closes it. */
  MetadataService newService();

  /** A lease TTL short enough to wait out in a test but valid for the backend. */
  default Duration shortTtl() {
    return Duration.ofSeconds(2);
  }

  GlobalMetadata GLOBAL = new GlobalMetadata(65536, GlobalMetadata.CRC32C);

  private static MetadataService initialised(MetadataService m) {
    join(m.initialize(GLOBAL, Rings.single(1, new RingMember(new PeerId("p1"), 100))));
    return m;
  }

  static BlockRef page(long volume, long inode, long index) {
    return new BlockRef(new VolumeId(volume), inode, index, BlockType.MAP);
  }

  @Test
  default void uninitialisedClusterSaysRunInit() {
    try (MetadataService m = newService()) {
      assertThatThrownBy(() -> join(m.global())).isInstanceOf(TorusException.class)
          .hasMessageContaining("torusctl init")
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.NOT_INITIALIZED));
      assertCode(ErrorCode.NOT_INITIALIZED, () -> join(m.volumes().create("v", VolumeRoot.empty(1, 1))));
      assertCode(ErrorCode.NOT_INITIALIZED, () -> join(m.rings().current()));
    }
  }

  @Test
  default void initialiseOnceThenAlreadyExists() {
    try (MetadataService m = initialised(newService())) {
      assertThat(join(m.global())).isEqualTo(GLOBAL);
      assertCode(ErrorCode.ALREADY_EXISTS,
          () -> join(m.initialize(GLOBAL, Rings.empty(1))));
      Versioned<Ring> ring = join(m.rings().current());
      assertThat(ring.value().version()).isEqualTo(1);
      assertThat(ring.value().members()).extracting(RingMember::peer).containsExactly(new PeerId("p1"));
    }
  }

  @Test
  default void createGetListDelete() {
    try (MetadataService m = initialised(newService())) {
      VolumeInfo a = join(m.volumes().create("alpha", VolumeRoot.empty(1 << 30, 2)));
      VolumeInfo b = join(m.volumes().create("beta", VolumeRoot.empty(5L << 40, 4)));
      assertThat(a.id()).isNotEqualTo(b.id());
      assertThat(a.size()).isEqualTo(1 << 30);
      assertThat(join(m.volumes().get("beta"))).isEqualTo(b);
      assertThat(join(m.volumes().list())).extracting(VolumeInfo::name).containsExactly("alpha", "beta");
      assertCode(ErrorCode.ALREADY_EXISTS, () -> join(m.volumes().create("alpha", VolumeRoot.empty(1, 1))));
      join(m.volumes().delete("alpha"));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.volumes().get("alpha")));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.volumes().delete("alpha")));
      assertThat(join(m.volumes().list())).containsExactly(b);
      VolumeInfo again = join(m.volumes().create("alpha", VolumeRoot.empty(7, 1)));
      assertThat(again.id().value()).as("ids are never reused").isGreaterThan(b.id().value());
    }
  }

  @Test
  default void badNamesAreRefused() {
    try (MetadataService m = initialised(newService())) {
      for (String bad : List.of("", "/", "..", "a/b", ".hidden", "x y", "a".repeat(129))) {
        assertThatThrownBy(() -> join(m.volumes().create(bad, VolumeRoot.empty(1, 1))))
            .isInstanceOf(TorusException.class).hasMessageContaining("name")
            .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
      }
      VolumeInfo v = join(m.volumes().create("ok", VolumeRoot.empty(1, 1)));
      assertCode(ErrorCode.INVALID_ARGUMENT, () -> join(m.volumes().createSnapshot(v.id(), "../x")));
      assertThat(join(m.volumes().list())).hasSize(1);
    }
  }

  @Test
  default void deletingOneVolumeLeavesItsNeighboursAlone() {
    try (MetadataService m = initialised(newService())) {
      for (int i = 0; i < 40; i++) {
        join(m.volumes().create("v" + i, VolumeRoot.empty(i + 1, 1)));
      }
      VolumeInfo v2 = join(m.volumes().get("v1"));
      join(m.volumes().createSnapshot(join(m.volumes().get("v33")).id(), "s"));
      join(m.volumes().delete(v2.name()));
      List<VolumeInfo> left = join(m.volumes().list());
      assertThat(left).hasSize(39);
      for (VolumeInfo v : left) {
        assertThat(join(m.volumes().root(v.id())).value().size()).isEqualTo(v.size());
      }
      assertThat(join(m.volumes().listSnapshots(join(m.volumes().get("v33")).id()))).hasSize(1);
    }
  }

  @Test
  default void lockIsExclusiveAndAllocatesSessions() {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(1, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock first = join(m.volumes().lock(id, lease, "writer-1"));
      assertThat(first.session()).isEqualTo(1);
      assertThatThrownBy(() -> join(m.volumes().lock(id, lease, "writer-2")))
          .isInstanceOf(TorusException.class).hasMessageContaining("writer-1")
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.LOCKED));
      assertThat(join(m.volumes().lockStatus(id))).map(LockInfo::owner).contains("writer-1");
      assertCode(ErrorCode.LOCKED, () -> join(m.volumes().delete("v")));
      join(m.volumes().unlock(first));
      assertThat(join(m.volumes().lockStatus(id))).isEmpty();
      VolumeLock second = join(m.volumes().lock(id, lease, "writer-2"));
      assertThat(second.session()).isEqualTo(2);
      join(m.volumes().unlock(first)); // a stale unlock must not release the new holder
      assertThat(join(m.volumes().lockStatus(id))).map(LockInfo::owner).contains("writer-2");
    }
  }

  @Test
  default void commitIsFencedByTheLockAndTheRootRevision() {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(4096, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock lock = join(m.volumes().lock(id, lease, "w"));
      Versioned<VolumeRoot> r0 = join(m.volumes().root(id));
      VolumeRoot next = new VolumeRoot(4096, 1, page(id.value(), 1, 1), 1234, 1, 7);
      Versioned<VolumeRoot> r1 = join(m.volumes().commit(lock, r0.revision(), next));
      assertThat(join(m.volumes().root(id))).isEqualTo(r1);
      assertThatThrownBy(() -> join(m.volumes().commit(lock, r0.revision(), next)))
          .isInstanceOf(CompareFailedException.class);
      join(m.volumes().unlock(lock));
      assertCode(ErrorCode.LOCKED, () -> join(m.volumes().commit(lock, r1.revision(), next)));
      assertThat(join(m.volumes().root(id))).isEqualTo(r1);
    }
  }

  @Test
  default void anExpiredLeaseReleasesTheLockAndFencesTheOldWriter() throws Exception {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(4096, 1))).id();
      long lease = join(m.leases().grant(shortTtl()));
      VolumeLock stale = join(m.volumes().lock(id, lease, "old"));
      long rev = join(m.volumes().root(id)).revision();
      eventually(() -> join(m.volumes().lockStatus(id)).isEmpty(), shortTtl().multipliedBy(4));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.leases().keepAlive(lease)));
      long lease2 = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock fresh = join(m.volumes().lock(id, lease2, "new"));
      assertThat(fresh.session()).isGreaterThan(stale.session());
      assertCode(ErrorCode.LOCKED,
          () -> join(m.volumes().commit(stale, rev, new VolumeRoot(4096, 1, page(id.value(), 1, 9), 1, 1, 0))));
      join(m.volumes().commit(fresh, rev, new VolumeRoot(4096, 1, page(id.value(), 2, 1), 2, 1, 0)));
    }
  }

  @Test
  default void keepAliveKeepsTheLock() throws Exception {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(1, 1))).id();
      long lease = join(m.leases().grant(shortTtl()));
      join(m.volumes().lock(id, lease, "w"));
      long until = System.nanoTime() + shortTtl().multipliedBy(2).toNanos();
      while (System.nanoTime() < until) {
        join(m.leases().keepAlive(lease));
        Thread.sleep(shortTtl().toMillis() / 4);
      }
      assertThat(join(m.volumes().lockStatus(id))).isPresent();
      join(m.leases().revoke(lease));
      assertThat(join(m.volumes().lockStatus(id))).isEmpty();
    }
  }

  @Test
  default void snapshotsCaptureTheCommittedRoot() {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(8192, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock lock = join(m.volumes().lock(id, lease, "w"));
      VolumeRoot first = new VolumeRoot(8192, 1, page(id.value(), 1, 1), 11, 1, 0);
      Versioned<VolumeRoot> r1 = join(m.volumes().commit(lock, join(m.volumes().root(id)).revision(), first));
      SnapshotInfo s1 = join(m.volumes().createSnapshot(id, "s1"));
      assertThat(s1.root()).isEqualTo(first);
      assertCode(ErrorCode.ALREADY_EXISTS, () -> join(m.volumes().createSnapshot(id, "s1")));
      VolumeRoot second = new VolumeRoot(8192, 1, page(id.value(), 1, 2), 22, 1, 0);
      join(m.volumes().commit(lock, r1.revision(), second));
      join(m.volumes().createSnapshot(id, "s2"));
      assertThat(join(m.volumes().listSnapshots(id))).extracting(SnapshotInfo::name).containsExactly("s1", "s2");
      assertThat(join(m.volumes().getSnapshot(id, "s2")).root()).isEqualTo(second);
      assertCode(ErrorCode.LOCKED, () -> join(m.volumes().restoreSnapshot(id, "s1")));
      join(m.volumes().unlock(lock));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.volumes().restoreSnapshot(id, "nope")));
      assertThat(join(m.volumes().restoreSnapshot(id, "s1")).value()).isEqualTo(first);
      assertThat(join(m.volumes().root(id)).value()).isEqualTo(first);
      join(m.volumes().deleteSnapshot(id, "s1"));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.volumes().deleteSnapshot(id, "s1")));
      assertThat(join(m.volumes().listSnapshots(id))).extracting(SnapshotInfo::name).containsExactly("s2");
    }
  }

  @Test
  default void cloneStartsFromTheSnapshotRoot() {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("src", VolumeRoot.empty(8192, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock lock = join(m.volumes().lock(id, lease, "w"));
      VolumeRoot committed = new VolumeRoot(8192, 1, page(id.value(), 1, 1), 5, 1, 0);
      join(m.volumes().commit(lock, join(m.volumes().root(id)).revision(), committed));
      join(m.volumes().createSnapshot(id, "gold"));
      VolumeInfo clone = join(m.volumes().cloneSnapshot(id, "gold", "copy"));
      assertThat(clone.origin()).isEqualTo("src@gold");
      assertThat(clone.size()).isEqualTo(8192);
      assertThat(join(m.volumes().root(clone.id())).value()).isEqualTo(committed);
      assertCode(ErrorCode.ALREADY_EXISTS, () -> join(m.volumes().cloneSnapshot(id, "gold", "src")));
      assertCode(ErrorCode.NOT_FOUND, () -> join(m.volumes().cloneSnapshot(id, "none", "other")));
      join(m.volumes().unlock(lock));
      join(m.volumes().delete("src"));
      assertThat(join(m.volumes().get("copy")).size()).isEqualTo(8192);
    }
  }

  @Test
  default void viewIsConsistent() {
    try (MetadataService m = initialised(newService())) {
      VolumeId a = join(m.volumes().create("a", VolumeRoot.empty(4096, 1))).id();
      VolumeId b = join(m.volumes().create("b", VolumeRoot.empty(4096, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      VolumeLock lock = join(m.volumes().lock(a, lease, "w"));
      join(m.volumes().createSnapshot(b, "s"));
      ClusterView view = join(m.view());
      assertThat(view.lastVolumeId()).isEqualTo(b.value());
      assertThat(view.volumes()).hasSize(2);
      VolumeState va = view.volumes().stream().filter(v -> v.info().id().equals(a)).findFirst().orElseThrow();
      assertThat(va.lock()).map(LockInfo::session).contains(lock.session());
      assertThat(va.lastSession()).isEqualTo(lock.session());
      VolumeState vb = view.volumes().stream().filter(v -> v.info().id().equals(b)).findFirst().orElseThrow();
      assertThat(vb.snapshots()).extracting(SnapshotInfo::name).containsExactly("s");
      assertThat(vb.lock()).isEmpty();
    }
  }

  @Test
  default void ringChangesAreCompareAndSwapWithSequentialVersions() throws Exception {
    try (MetadataService m = initialised(newService())) {
      Versioned<Ring> cur = join(m.rings().current());
      List<Versioned<Ring>> seen = new CopyOnWriteArrayList<>();
      try (Subscription sub = m.rings().watch(seen::add)) {
        Ring mod = Rings.mod(2, 1, List.of(new RingMember(new PeerId("p1"), 100)));
        Versioned<Ring> next = join(m.rings().compareAndSet(mod, cur.revision()));
        assertThatThrownBy(() -> join(m.rings().compareAndSet(mod.withReplication(1), cur.revision())))
            .isInstanceOf(CompareFailedException.class);
        Ring skip = Rings.mod(4, 1, mod.members());
        assertThatThrownBy(() -> join(m.rings().compareAndSet(skip, next.revision())))
            .isInstanceOf(CompareFailedException.class).hasMessageContaining("version");
        Ring three = mod.withMembers(List.of(new RingMember(new PeerId("p2"), 50)));
        join(m.rings().compareAndSet(three, next.revision()));
        eventually(() -> !seen.isEmpty() && seen.get(seen.size() - 1).value().version() == 3,
            Duration.ofSeconds(10));
        for (int i = 1; i < seen.size(); i++) {
          assertThat(seen.get(i).revision()).isGreaterThan(seen.get(i - 1).revision());
        }
        assertThat(join(m.rings().current()).value().members()).hasSize(2);
      }
    }
  }

  @Test
  default void peersHangOnTheirLease() throws Exception {
    try (MetadataService m = initialised(newService())) {
      long lease = join(m.leases().grant(shortTtl()));
      long lasting = join(m.leases().grant(Duration.ofSeconds(60)));
      PeerInfo p1 = new PeerInfo(new PeerId("node-1"), "tcp://127.0.0.1:40000",
          Instant.ofEpochMilli(1_700_000_000_000L), 1000, 10, 1, false);
      PeerInfo p2 = new PeerInfo(new PeerId("node-2"), "tcp://127.0.0.1:40001",
          Instant.ofEpochMilli(1_700_000_000_000L), 2000, 20, 1, true);
      List<List<PeerInfo>> seen = new CopyOnWriteArrayList<>();
      try (Subscription sub = m.peers().watch(seen::add)) {
        join(m.peers().register(p1, lease));
        join(m.peers().register(p2, lasting));
        assertThat(join(m.peers().list())).containsExactlyInAnyOrder(p1, p2);
        eventually(() -> join(m.peers().list()).equals(List.of(p2)), shortTtl().multipliedBy(4));
        eventually(() -> !seen.isEmpty() && seen.get(seen.size() - 1).equals(List.of(p2)),
            Duration.ofSeconds(10));
        join(m.peers().deregister(p2.id()));
        assertThat(join(m.peers().list())).isEmpty();
      }
    }
  }

  @Test
  default void writesWithAnUnknownLeaseFail() {
    try (MetadataService m = initialised(newService())) {
      VolumeId id = join(m.volumes().create("v", VolumeRoot.empty(1, 1))).id();
      long lease = join(m.leases().grant(Duration.ofSeconds(30)));
      join(m.leases().revoke(lease));
      assertThatThrownBy(() -> join(m.volumes().lock(id, lease, "w"))).isInstanceOf(TorusException.class);
      assertThat(join(m.volumes().lockStatus(id))).isEqualTo(Optional.empty());
    }
  }

  @Test
  default void wipeRemovesEverything() {
    try (MetadataService m = initialised(newService())) {
      join(m.volumes().create("v", VolumeRoot.empty(1, 1)));
      join(m.wipe());
      assertCode(ErrorCode.NOT_INITIALIZED, () -> join(m.global()));
      initialised(m);
      assertThat(join(m.volumes().list())).isEmpty();
    }
  }
}
