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
}
