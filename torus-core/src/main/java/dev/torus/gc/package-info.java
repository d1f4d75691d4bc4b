/**
 * Garbage collection: deletes blocks from a local store that no volume map, snapshot or in-flight
 * write session can reach, and nothing else.
 */
@NullMarked
package dev.torus.gc;

import org.jspecify.annotations.NullMarked;
