package dev.torus.metadata;

import java.util.Objects;

/**
 * A value with the metadata revision at which it was last written (etcd's {@code mod_revision}).
 * Compare-and-swap writes take the revision they expect.
 */
public record Versioned<T>(T value, long revision) {
  public Versioned {
    Objects.requireNonNull(value, "value");
  }
}
