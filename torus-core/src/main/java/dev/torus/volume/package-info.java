/**
 * Block volumes: thin-provisioned, copy-on-write block devices whose block map is a tree of map
 * pages stored like data. {@link dev.torus.volume.VolumeService} creates, lists, resizes,
 * snapshots, clones and opens volumes; an open volume is a {@link dev.torus.volume.BlockVolume},
 * which frontends see as a {@link dev.torus.volume.BlockDevice}.
 */
@NullMarked
package dev.torus.volume;

import org.jspecify.annotations.NullMarked;
