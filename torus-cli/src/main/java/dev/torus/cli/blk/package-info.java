/** The {@code torusblk} subcommands: serve and attach volumes as block devices. */
@NullMarked
package dev.torus.cli.blk;

import org.jspecify.annotations.NullMarked;
