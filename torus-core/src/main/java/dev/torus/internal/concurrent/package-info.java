/** Future and executor helpers shared by several packages. Not API. */
@NullMarked
package dev.torus.internal.concurrent;

import org.jspecify.annotations.NullMarked;
