package dev.torus.metadata.kv;

import java.util.Objects;

/**
 * One stored key, as etcd reports it.
 *
 * @param createRevision revision of the transaction that created the key
 * @param modRevision revision of the last transaction that wrote it
 * @param version number of writes since creation (1 after the first put)
 * @param lease the lease it is attached to, 0 for none
 */
public record KeyValue(
    String key, byte[] value, long createRevision, long modRevision, long version, long lease) {
  public KeyValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }
}
