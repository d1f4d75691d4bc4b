package dev.torus.metadata.kv;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A branch that etcd would refuse ("duplicate key given in txn request") is refused up front. */
final class TxnTest {
  private static final KvOp PUT_A = new KvOp.Put("/t/a", new byte[] {1}, 0);

  @Test
  void aBranchMayNotWriteAKeyTwice() {
    assertThatThrownBy(() -> Txn.of(List.of(PUT_A, new KvOp.Put("/t/a", new byte[] {2}, 0))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/t/a");
    assertThatThrownBy(() -> Txn.of(List.of(PUT_A, new KvOp.Delete("/t/a"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Txn(List.of(), List.of(),
        List.of(new KvOp.DeletePrefix("/t/"), PUT_A)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void whatEtcdAcceptsIsAccepted() {
    assertThatCode(() -> new Txn(List.of(), List.of(PUT_A), List.of(PUT_A)))
        .doesNotThrowAnyException();
    assertThatCode(() -> Txn.of(List.of(new KvOp.Delete("/t/a"), new KvOp.Delete("/t/a"),
        new KvOp.DeletePrefix("/t/"), new KvOp.Put("/t0", new byte[0], 0))))
        .doesNotThrowAnyException();
    assertThatCode(() -> Txn.of(List.of(PUT_A, new KvOp.Get("/t/a"),
        new KvOp.DeletePrefix("/u/")))).doesNotThrowAnyException();
  }
}
