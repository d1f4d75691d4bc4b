package dev.torus.metadata;

import dev.torus.VolumeId;
import java.time.Instant;
import java.util.Objects;

/**
 * A volume as listed: identity, current size and when it was created.
 *
 * @param origin for a clone, {@code "volume@snapshot"} it was cloned from; empty otherwise
 */
public record VolumeInfo(VolumeId id, String name, long size, Instant created, String origin) {
  public VolumeInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(origin, "origin");
    if (size < 0) {
      throw new IllegalArgumentException("size < 0");
    }
  }
}
