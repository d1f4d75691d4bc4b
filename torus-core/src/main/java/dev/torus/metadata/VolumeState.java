package dev.torus.metadata;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything metadata knows about one volume, as part of a {@link ClusterView}.
 *
 * @param lastSession the highest write session number handed out so far
 */
public record VolumeState(
    VolumeInfo info, VolumeRoot root, List<SnapshotInfo> snapshots, long lastSession,
    Optional<LockInfo> lock) {
  public VolumeState {
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(root, "root");
    snapshots = List.copyOf(snapshots);
    Objects.requireNonNull(lock, "lock");
  }
}
