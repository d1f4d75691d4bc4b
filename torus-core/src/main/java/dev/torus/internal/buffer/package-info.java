/** Buffer and checksum helpers shared by several packages. Not API. */
@NullMarked
package dev.torus.internal.buffer;

import org.jspecify.annotations.NullMarked;
