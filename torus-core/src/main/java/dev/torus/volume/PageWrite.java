package dev.torus.volume;

import dev.torus.BlockRef;

/** A new map page produced by a commit, to be stored under {@code ref}. */
record PageWrite(BlockRef ref, MapPage page, int crc) {}
