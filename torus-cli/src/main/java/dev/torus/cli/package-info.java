/**
 * The {@code torusctl} and {@code torusblk} command lines: small picocli wrappers that parse
 * options, wire the library's parts, run one operation and map failures to exit codes. No
 * business logic lives here.
 */
@NullMarked
package dev.torus.cli;

import org.jspecify.annotations.NullMarked;
