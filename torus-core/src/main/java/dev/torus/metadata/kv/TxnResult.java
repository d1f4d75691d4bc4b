package dev.torus.metadata.kv;

import java.util.List;

/**
 * The outcome of a {@link Txn}.
 *
 * @param succeeded whether the compares held (and so which branch ran)
 * @param revision the store's revision after the transaction
 * @param reads one list per {@link KvOp.Get} or {@link KvOp.GetPrefix} of the branch that ran, in
 *     order
 */
public record TxnResult(boolean succeeded, long revision, List<List<KeyValue>> reads) {
  public TxnResult {
    reads = reads.stream().map(List::copyOf).toList();
  }
}
