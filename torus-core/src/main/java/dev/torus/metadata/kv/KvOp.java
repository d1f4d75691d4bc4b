package dev.torus.metadata.kv;

import java.util.Objects;

/** One operation of a {@link Txn} branch. */
public sealed interface KvOp {
  /** Writes a key, attached to {@code lease} (0 for none). */
  record Put(String key, byte[] value, long lease) implements KvOp {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** Deletes one key (absent keys are fine). */
  record Delete(String key) implements KvOp {
    public Delete {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Deletes every key under a prefix. The prefix must end with {@code /}, so that deleting {@code
   * volumes/02/} can never touch {@code volumes/020/}.
   */
  record DeletePrefix(String prefix) implements KvOp {
    public DeletePrefix {
      if (!prefix.endsWith("/")) {
        throw new IllegalArgumentException("prefix must end with '/': " + prefix);
      }
    }
  }

  /** Reads one key; the result is a list of zero or one entries. */
  record Get(String key) implements KvOp {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }

  /** Reads every key under a prefix (which must end with {@code /}), sorted by key. */
  record GetPrefix(String prefix) implements KvOp {
    public GetPrefix {
      if (!prefix.endsWith("/")) {
        throw new IllegalArgumentException("prefix must end with '/': " + prefix);
      }
    }
  }
}
