package dev.torus.metadata.kv;

import static dev.torus.TorusAssertions.assertCode;
import static dev.torus.TorusAssertions.eventually;
import static dev.torus.internal.concurrent.Futures.join;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.metadata.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The semantics every {@link KvStore} must have: etcd's. Run against the in-memory store, the
 * embedded store and a real etcd, so the first two cannot drift from the third.
 *
 * <p>Every test works under its own fresh prefix, so an implementation may hand out stores that
 * share one backend (one etcd process for a whole class). Tests that take leases end with them
 * expired or revoked, so no lease expiry from one test bumps the revision under the next.
 */
public interface KvStoreContract {
  /** A store for one test; the test closes it. */
  KvStore newStore();

  /** A lease TTL that the backend accepts and a test can wait out. */
  default Duration leaseTtl() {
    return Duration.ofSeconds(2);
  }

  /**
   * Lets {@code d} of lease time pass. Sleeps by default; stores on a test clock advance it
   * instead.
   */
  default void elapse(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }

  /** How long after a lease's TTL the store may take to delete its keys (etcd's lessor ticks). */
  default Duration expiryGrace() {
    return Duration.ofSeconds(3);
  }

  /** A prefix nothing else uses. */
  static String freshPrefix() {
    return "/kv-contract/" + UUID.randomUUID() + "/";
  }

  static KvOp put(String key, String value) {
    return new KvOp.Put(key, value.getBytes(UTF_8), 0);
  }

  static String text(KeyValue kv) {
    return new String(kv.value(), UTF_8);
  }

  private static long revision(KvStore s, String ns) {
    return join(s.range(ns)).revision();
  }

  @Test
  default void aMissingKeyIsEmpty() {
    try (KvStore s = newStore()) {
      assertThat(join(s.get(freshPrefix() + "nothing"))).isEmpty();
      assertThat(s.location()).isNotBlank();
    }
  }

  @Test
  default void putCreatesAKeyAndUpdatesItWithNewRevisions() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      long before = revision(s, ns);
      TxnResult r1 = join(s.txn(Txn.of(List.of(put(ns + "a", "1")))));
      assertThat(r1.succeeded()).isTrue();
      assertThat(r1.revision()).isEqualTo(before + 1);
      KeyValue kv1 = join(s.get(ns + "a")).orElseThrow();
      assertThat(List.of(kv1.createRevision(), kv1.modRevision(), kv1.version(), kv1.lease()))
          .containsExactly(r1.revision(), r1.revision(), 1L, 0L);
      assertThat(text(kv1)).isEqualTo("1");

      TxnResult r2 = join(s.txn(Txn.of(List.of(put(ns + "a", "2")))));
      assertThat(r2.revision()).isEqualTo(r1.revision() + 1);
      KeyValue kv2 = join(s.get(ns + "a")).orElseThrow();
      assertThat(List.of(kv2.createRevision(), kv2.modRevision(), kv2.version()))
          .containsExactly(r1.revision(), r2.revision(), 2L);
      assertThat(text(kv2)).isEqualTo("2");
    }
  }

  @Test
  default void oneTransactionIsOneRevision() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      join(s.txn(Txn.of(List.of(put(ns + "gone", "x")))));
      long before = revision(s, ns);
      TxnResult r = join(s.txn(Txn.of(List.of(put(ns + "a", "1"), put(ns + "b", "2"),
          new KvOp.Delete(ns + "gone"), put(ns + "c", "3")))));
      assertThat(r.revision()).isEqualTo(before + 1);
      assertThat(join(s.range(ns)).kvs()).extracting(KeyValue::modRevision)
          .containsExactly(r.revision(), r.revision(), r.revision());
      assertThat(revision(s, ns)).isEqualTo(r.revision());
    }
  }

  @Test
  default void transactionsThatChangeNothingKeepTheRevision() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      join(s.txn(Txn.of(List.of(put(ns + "a", "1")))));
      long before = revision(s, ns);
      TxnResult read = join(s.txn(Txn.of(List.of(new KvOp.Get(ns + "a"),
          new KvOp.GetPrefix(ns)))));
      assertThat(read.revision()).isEqualTo(before);
      assertThat(read.reads()).hasSize(2);
      TxnResult failed = join(s.txn(new Txn(List.of(Compare.absent(ns + "a")),
          List.of(put(ns + "a", "2")), List.of())));
      assertThat(failed.succeeded()).isFalse();
      assertThat(failed.revision()).isEqualTo(before);
      TxnResult nothingDeleted = join(s.txn(Txn.of(List.of(new KvOp.Delete(ns + "missing"),
          new KvOp.DeletePrefix(ns + "none/")))));
      assertThat(nothingDeleted.revision()).as("deleting nothing is no change").isEqualTo(before);
      assertThat(revision(s, ns)).isEqualTo(before);
      assertThat(text(join(s.get(ns + "a")).orElseThrow())).isEqualTo("1");
    }
  }

  @Test
  default void aRecreatedKeyStartsOver() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      join(s.txn(Txn.of(List.of(put(ns + "a", "1")))));
      join(s.txn(Txn.of(List.of(put(ns + "a", "2")))));
      join(s.txn(Txn.of(List.of(new KvOp.Delete(ns + "a")))));
      assertThat(join(s.get(ns + "a"))).isEmpty();
      TxnResult r = join(s.txn(Txn.of(List.of(put(ns + "a", "3")))));
      KeyValue kv = join(s.get(ns + "a")).orElseThrow();
      assertThat(List.of(kv.createRevision(), kv.modRevision(), kv.version()))
          .containsExactly(r.revision(), r.revision(), 1L);
    }
  }

  @Test
  default void missingKeysCompareAsZeroAndHaveNoValue() {
    try (KvStore s = newStore()) {
      String k = freshPrefix() + "missing";
      List<Compare> holding = List.of(Compare.absent(k), Compare.modRevision(k, 0),
          new Compare(k, Compare.Target.CREATE_REVISION, Compare.Op.EQUAL, 0, null),
          new Compare(k, Compare.Target.VERSION, Compare.Op.LESS, 1, null));
      for (Compare c : holding) {
        assertThat(join(s.txn(new Txn(List.of(c), List.of(), List.of()))).succeeded())
            .as("%s", c).isTrue();
      }
      List<Compare> failing = List.of(Compare.present(k), Compare.valueEquals(k, new byte[0]),
          new Compare(k, Compare.Target.VALUE, Compare.Op.NOT_EQUAL, 0, new byte[] {1}));
      for (Compare c : failing) {
        assertThat(join(s.txn(new Txn(List.of(c), List.of(), List.of()))).succeeded())
            .as("%s", c).isFalse();
      }
    }
  }

  @Test
  default void everyCompareMustHoldAndTheOtherBranchReportsWhy() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      TxnResult created = join(s.txn(Txn.of(List.of(put(ns + "a", "1"), put(ns + "b", "1")))));
      Txn txn = new Txn(
          List.of(Compare.modRevision(ns + "a", created.revision()), Compare.absent(ns + "b")),
          List.of(put(ns + "a", "2")),
          List.of(new KvOp.Get(ns + "b"), new KvOp.Get(ns + "nope"), new KvOp.GetPrefix(ns)));
      TxnResult r = join(s.txn(txn));
      assertThat(r.succeeded()).isFalse();
      assertThat(r.reads()).hasSize(3);
      assertThat(r.reads().get(0)).extracting(KeyValue::key).containsExactly(ns + "b");
      assertThat(r.reads().get(1)).isEmpty();
      assertThat(r.reads().get(2)).extracting(KeyValue::key).containsExactly(ns + "a", ns + "b");
      assertThat(text(join(s.get(ns + "a")).orElseThrow())).isEqualTo("1");

      TxnResult ok = join(s.txn(new Txn(
          List.of(Compare.modRevision(ns + "a", created.revision()), Compare.present(ns + "b"),
              Compare.valueEquals(ns + "b", "1".getBytes(UTF_8))),
          List.of(put(ns + "a", "2"), new KvOp.Get(ns + "a")), List.of())));
      assertThat(ok.succeeded()).isTrue();
      assertThat(ok.reads().get(0)).singleElement()
          .satisfies(kv -> assertThat(kv.modRevision()).as("a branch reads its own writes")
              .isEqualTo(ok.revision()))
          .satisfies(kv -> assertThat(text(kv)).isEqualTo("2"));
    }
  }

  @Test
  default void valuesCompareAsUnsignedBytes() {
    try (KvStore s = newStore()) {
      String k = freshPrefix() + "v";
      join(s.txn(Txn.of(List.of(new KvOp.Put(k, new byte[] {(byte) 0x80}, 0)))));
      Compare greater = new Compare(k, Compare.Target.VALUE, Compare.Op.GREATER, 0,
          new byte[] {0x7f});
      Compare less = new Compare(k, Compare.Target.VALUE, Compare.Op.LESS, 0,
          new byte[] {(byte) 0x80, 0});
      assertThat(join(s.txn(new Txn(List.of(greater), List.of(), List.of()))).succeeded()).isTrue();
      assertThat(join(s.txn(new Txn(List.of(less), List.of(), List.of()))).succeeded()).isTrue();
    }
  }

  @Test
  default void prefixesAreExactAndSorted() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      String vol = ns + "volumes/02/";
      join(s.txn(Txn.of(List.of(put(vol + "root", "r"), put(vol + "info", "i"),
          put(vol + "snapshots/b", "s"), put(ns + "volumes/020/root", "other"),
          put(ns + "volumes/02", "no slash"), put(ns + "volumes/02.x", "dot")))));
      assertThat(join(s.range(vol)).kvs()).extracting(KeyValue::key)
          .containsExactly(vol + "info", vol + "root", vol + "snapshots/b");
      TxnResult r = join(s.txn(Txn.of(List.of(new KvOp.GetPrefix(vol)))));
      assertThat(r.reads().get(0)).extracting(KeyValue::key)
          .containsExactly(vol + "info", vol + "root", vol + "snapshots/b");
      join(s.txn(Txn.of(List.of(new KvOp.DeletePrefix(vol)))));
      assertThat(join(s.range(ns)).kvs()).extracting(KeyValue::key)
          .containsExactly(ns + "volumes/02", ns + "volumes/02.x", ns + "volumes/020/root");
      assertCode(ErrorCode.INVALID_ARGUMENT, () -> join(s.range(ns + "volumes/02")));
    }
  }

  @Test
  default void aPutOnAnUnknownLeaseFailsAndAppliesNothing() {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      long gone = join(s.grantLease(leaseTtl()));
      join(s.revokeLease(gone));
      long before = revision(s, ns);
      assertCode(ErrorCode.NOT_FOUND, () -> join(s.txn(Txn.of(List.of(put(ns + "a", "1"),
          new KvOp.Put(ns + "b", new byte[] {1}, gone))))));
      assertThat(join(s.range(ns)).kvs()).isEmpty();
      assertThat(revision(s, ns)).isEqualTo(before);
    }
  }

  @Test
  default void theKeysOfAnExpiredLeaseVanish() throws InterruptedException {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      List<Range> seen = new CopyOnWriteArrayList<>();
      long lease = join(s.grantLease(leaseTtl()));
      long other = join(s.grantLease(leaseTtl()));
      assertThat(lease).isNotZero().isNotEqualTo(other);
      join(s.revokeLease(other));
      TxnResult put = join(s.txn(Txn.of(List.of(new KvOp.Put(ns + "leased", new byte[] {1}, lease),
          put(ns + "kept", "k")))));
      assertThat(join(s.get(ns + "leased")).orElseThrow().lease()).isEqualTo(lease);
      try (Subscription sub = s.watch(ns, seen::add)) {
        eventually(() -> !seen.isEmpty() && seen.get(seen.size() - 1).kvs().size() == 2,
            Duration.ofSeconds(10));
        elapse(leaseTtl().plusMillis(100));
        eventually(() -> join(s.get(ns + "leased")).isEmpty(), expiryGrace());
        assertThat(join(s.range(ns)).kvs()).extracting(KeyValue::key).containsExactly(ns + "kept");
        assertThat(revision(s, ns)).as("expiry is a change").isGreaterThan(put.revision());
        assertCode(ErrorCode.NOT_FOUND, () -> join(s.keepAlive(lease)));
        eventually(() -> seen.get(seen.size() - 1).kvs().size() == 1, Duration.ofSeconds(10));
      }
    }
  }

  @Test
  default void keepAliveHoldsTheKeysAndRevokeDeletesThem() throws InterruptedException {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      long lease = join(s.grantLease(leaseTtl()));
      join(s.txn(Txn.of(List.of(new KvOp.Put(ns + "a", new byte[] {1}, lease)))));
      for (int i = 0; i < 8; i++) {
        assertThat(join(s.keepAlive(lease))).isEqualTo(leaseTtl());
        elapse(leaseTtl().dividedBy(4));
      }
      assertThat(join(s.get(ns + "a"))).isPresent();
      long before = revision(s, ns);
      join(s.revokeLease(lease));
      assertThat(join(s.get(ns + "a"))).isEmpty();
      assertThat(revision(s, ns)).isEqualTo(before + 1);
      assertCode(ErrorCode.NOT_FOUND, () -> join(s.keepAlive(lease)));
      join(s.revokeLease(lease)); // revoking an unknown lease succeeds
    }
  }

  @Test
  default void aWatchDeliversTheRangeThenEveryChangeUnderItsPrefix() throws InterruptedException {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      join(s.txn(Txn.of(List.of(put(ns + "w/a", "1")))));
      List<Range> seen = new CopyOnWriteArrayList<>();
      try (Subscription sub = s.watch(ns + "w/", seen::add)) {
        eventually(() -> !seen.isEmpty(), Duration.ofSeconds(10));
        assertThat(seen.get(0).kvs()).extracting(KeyValue::key).containsExactly(ns + "w/a");
        TxnResult put = join(s.txn(Txn.of(List.of(put(ns + "w/b", "2")))));
        eventually(() -> last(seen).kvs().size() == 2, Duration.ofSeconds(10));
        assertThat(last(seen).find(ns + "w/b").orElseThrow().modRevision())
            .isEqualTo(put.revision());
        int deliveries = seen.size();
        join(s.txn(Txn.of(List.of(put(ns + "elsewhere", "x")))));
        TxnResult del = join(s.txn(Txn.of(List.of(new KvOp.Delete(ns + "w/a")))));
        eventually(() -> last(seen).kvs().size() == 1, Duration.ofSeconds(10));
        assertThat(last(seen).revision()).isGreaterThanOrEqualTo(del.revision());
        assertThat(seen).hasSize(deliveries + 1);
        assertThat(last(seen).kvs()).extracting(KeyValue::key).containsExactly(ns + "w/b");
      }
    }
  }

  @Test
  default void watchCallbacksRunOneAtATimeAndNeverGoBack() throws Exception {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      List<Range> seen = new CopyOnWriteArrayList<>();
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger overlaps = new AtomicInteger();
      try (Subscription sub = s.watch(ns, r -> {
        if (inside.incrementAndGet() > 1) {
          overlaps.incrementAndGet();
        }
        seen.add(r);
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        inside.decrementAndGet();
      })) {
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
          String key = ns + "k" + w;
          Thread t = new Thread(() -> {
            for (int i = 1; i <= 20; i++) {
              join(s.txn(Txn.of(List.of(put(key, Integer.toString(i))))));
            }
          });
          t.start();
          writers.add(t);
        }
        for (Thread t : writers) {
          t.join();
        }
        eventually(() -> !seen.isEmpty() && last(seen).kvs().size() == 2
            && last(seen).kvs().stream().allMatch(kv -> text(kv).equals("20")),
            Duration.ofSeconds(10));
      }
      assertThat(overlaps.get()).isZero();
      for (int i = 1; i < seen.size(); i++) {
        assertThat(seen.get(i).revision()).isGreaterThan(seen.get(i - 1).revision());
      }
    }
  }

  @Test
  default void aClosedWatchDeliversNothingMore() throws InterruptedException {
    try (KvStore s = newStore()) {
      String ns = freshPrefix();
      List<Range> seen = new CopyOnWriteArrayList<>();
      Subscription sub = s.watch(ns, seen::add);
      eventually(() -> !seen.isEmpty(), Duration.ofSeconds(10));
      sub.close();
      sub.close();
      int count = seen.size();
      join(s.txn(Txn.of(List.of(put(ns + "a", "1")))));
      Thread.sleep(300);
      assertThat(seen).hasSize(count);
    }
  }

  @Test
  default void aClosedStoreFailsWithClosed() {
    KvStore s = newStore();
    s.close();
    s.close();
    assertCode(ErrorCode.CLOSED, () -> join(s.get(freshPrefix() + "a")));
    assertCode(ErrorCode.CLOSED, () -> join(s.txn(Txn.of(List.of(put(freshPrefix() + "a", "1"))))));
  }

  private static Range last(List<Range> seen) {
    return seen.get(seen.size() - 1);
  }
}
