package dev.torus.metadata.kv;

import java.util.List;

/**
 * An atomic transaction, etcd's If/Then/Else: if every compare holds, run {@code onSuccess},
 * otherwise {@code onFailure}. All of it happens at one revision; writes bump the revision once.
 */
public record Txn(List<Compare> compares, List<KvOp> onSuccess, List<KvOp> onFailure) {
  public Txn {
    compares = List.copyOf(compares);
    onSuccess = List.copyOf(onSuccess);
    onFailure = List.copyOf(onFailure);
  }

  /** A transaction that always succeeds. */
  public static Txn of(List<KvOp> ops) {
    return new Txn(List.of(), ops, List.of());
  }
}
