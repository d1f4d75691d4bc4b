package dev.torus.metadata;

import dev.torus.VolumeId;
import java.time.Instant;
import java.util.Objects;

/** A snapshot: a name for a volume's committed root at one moment. */
public record SnapshotInfo(VolumeId volume, String name, Instant created, VolumeRoot root) {
  public SnapshotInfo {
    Objects.requireNonNull(volume, "volume");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(root, "root");
  }
}
