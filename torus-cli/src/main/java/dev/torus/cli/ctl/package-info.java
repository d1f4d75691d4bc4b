/** The {@code torusctl} subcommands. */
@NullMarked
package dev.torus.cli.ctl;

import org.jspecify.annotations.NullMarked;
