package dev.torus.metadata;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import org.jspecify.annotations.Nullable;

/**
 * The committed state of a volume: its size and the root page of its block map. Moving a volume's
 * root is the commit point of every write session.
 *
 * @param size volume size in bytes
 * @param levels height of the stored map tree (1 = the root page is a leaf); blocks beyond what
 *     a tree this tall covers are holes, so growing a volume only changes {@code size}
 * @param page root map page, or {@code null} when every block is a hole
 * @param pageCrc CRC-32C of the root page (0 when {@code page} is null)
 * @param session the write session that committed this root (0 for a never-written volume)
 * @param highWater the last block index that session had allocated when the commit began: its
 *     blocks at or below this index are either in this tree or garbage, those above are still in
 *     flight (garbage collection relies on this), and none of its data blocks in this tree is
 *     above it (what a writer relies on to tell which blocks a snapshot of the tree may hold)
 */
public record VolumeRoot(
    long size, int levels, @Nullable BlockRef page, int pageCrc, long session, long highWater) {
  public VolumeRoot {
    if (size < 0) {
      throw new IllegalArgumentException("size < 0");
    }
    if (levels < 1) {
      throw new IllegalArgumentException("levels < 1");
    }
    if (page != null && page.type() != BlockType.MAP) {
      throw new IllegalArgumentException("root page must be a map block: " + page);
    }
    if (page == null && pageCrc != 0) {
      throw new IllegalArgumentException("an empty root has no checksum");
    }
    if (session < 0 || highWater < 0) {
      throw new IllegalArgumentException("session and highWater must not be negative");
    }
  }

  /** An all-hole, never-written volume of the given size. */
  public static VolumeRoot empty(long size, int levels) {
    return new VolumeRoot(size, levels, null, 0, 0, 0);
  }
}
