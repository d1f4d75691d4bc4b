package dev.torus;

import java.util.Objects;

/**
 * One write session of one volume. Every open-for-writing gets a fresh inode number from metadata,
 * so blocks written in different sessions never share a {@link BlockRef}.
 */
public record INodeRef(VolumeId volume, long inode) {
  public INodeRef {
    Objects.requireNonNull(volume, "volume");
    if (inode <= 0) {
      throw new IllegalArgumentException("inode must be positive: " + inode);
    }
  }
}
