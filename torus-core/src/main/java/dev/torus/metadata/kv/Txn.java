package dev.torus.metadata.kv;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An atomic transaction, etcd's If/Then/Else: if every compare holds, run {@code onSuccess},
 * otherwise {@code onFailure}. All of it happens at one revision; writes bump the revision once.
 *
 * <p>As in etcd, a branch may not write one key twice: two puts of a key, or a put of a key that
 * a delete in the same branch covers, are refused here ({@code IllegalArgumentException}), so a
 * transaction that the embedded store would accept can never fail on etcd ("duplicate key given
 * in txn request").
 */
public record Txn(List<Compare> compares, List<KvOp> onSuccess, List<KvOp> onFailure) {
  public Txn {
    compares = List.copyOf(compares);
    onSuccess = List.copyOf(onSuccess);
    onFailure = List.copyOf(onFailure);
    checkWrites(onSuccess);
    checkWrites(onFailure);
  }

  /** A transaction that always succeeds. */
  public static Txn of(List<KvOp> ops) {
    return new Txn(List.of(), ops, List.of());
  }

  private static void checkWrites(List<KvOp> ops) {
    Set<String> puts = new HashSet<>();
    for (KvOp op : ops) {
      if (op instanceof KvOp.Put put && !puts.add(put.key())) {
        throw new IllegalArgumentException("a transaction branch writes " + put.key() + " twice");
      }
    }
    for (KvOp op : ops) {
      for (String key : puts) {
        if ((op instanceof KvOp.Delete del && del.key().equals(key))
            || (op instanceof KvOp.DeletePrefix del2 && key.startsWith(del2.prefix()))) {
          throw new IllegalArgumentException("a transaction branch both writes and deletes " + key);
        }
      }
    }
  }
}
