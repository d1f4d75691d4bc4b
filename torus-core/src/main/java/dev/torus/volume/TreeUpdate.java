package dev.torus.volume;

import dev.torus.BlockRef;
import java.util.List;

/**
 * The result of applying changes to a block map: the new root, the pages to store first, and the
 * data blocks the old tree had where the changes put others or holes.
 */
record TreeUpdate(TreeRoot root, List<PageWrite> pages, List<BlockRef> replaced) {
  TreeUpdate {
    pages = List.copyOf(pages);
    replaced = List.copyOf(replaced);
  }
}
