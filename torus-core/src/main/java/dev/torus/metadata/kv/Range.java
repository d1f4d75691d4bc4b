package dev.torus.metadata.kv;

import java.util.List;
import java.util.Optional;

/** The keys under a prefix, sorted by key, all read at {@code revision}. */
public record Range(long revision, List<KeyValue> kvs) {
  public Range {
    kvs = List.copyOf(kvs);
  }

  /** The entry for an exact key, if present. */
  public Optional<KeyValue> find(String key) {
    for (KeyValue kv : kvs) {
      if (kv.key().equals(key)) {
        return Optional.of(kv);
      }
    }
    return Optional.empty();
  }

  /**
   * Whether {@code other} holds the same keys at the same mod revisions, i.e. nothing under the
   * prefix changed between the two reads. Watches use it to stay silent about changes elsewhere.
   */
  public boolean sameVersionsAs(Range other) {
    if (kvs.size() != other.kvs.size()) {
      return false;
    }
    for (int i = 0; i < kvs.size(); i++) {
      KeyValue a = kvs.get(i);
      KeyValue b = other.kvs.get(i);
      if (!a.key().equals(b.key()) || a.modRevision() != b.modRevision()) {
        return false;
      }
    }
    return true;
  }
}
