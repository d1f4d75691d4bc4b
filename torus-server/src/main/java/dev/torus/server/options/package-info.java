/**
 * Command-line pieces shared by {@code torusd}, {@code torusctl} and {@code torusblk}: where the
 * metadata lives (flags, config file profiles, environment), size parsing, error reporting and
 * exit codes.
 */
@NullMarked
package dev.torus.server.options;

import org.jspecify.annotations.NullMarked;
