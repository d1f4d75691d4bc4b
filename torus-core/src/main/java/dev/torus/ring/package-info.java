/**
 * Placement: a {@link dev.torus.ring.Ring} is a pure function from a block to the ordered list of
 * peers that should hold it. Rings are immutable and versioned; a change produces a new ring with
 * the next version, stored in metadata by compare-and-swap.
 */
@NullMarked
package dev.torus.ring;

import org.jspecify.annotations.NullMarked;
