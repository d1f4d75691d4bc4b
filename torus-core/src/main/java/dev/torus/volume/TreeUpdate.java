package dev.torus.volume;

import java.util.List;

/** The result of applying changes to a block map: the new root and the pages to store first. */
record TreeUpdate(TreeRoot root, List<PageWrite> pages) {
  TreeUpdate {
    pages = List.copyOf(pages);
  }
}
