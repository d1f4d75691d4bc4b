package dev.torus.volume;

import dev.torus.metadata.VolumeRoot;
import org.jspecify.annotations.Nullable;

/** The top of a block map: its height and root page ({@code null} when all holes). */
record TreeRoot(int levels, @Nullable BlockPointer page) {
  TreeRoot {
    if (levels < 1) {
      throw new IllegalArgumentException("levels < 1");
    }
  }

  static TreeRoot of(VolumeRoot root) {
    return new TreeRoot(root.levels(),
        root.page() == null ? null : new BlockPointer(root.page(), root.pageCrc()));
  }
}
