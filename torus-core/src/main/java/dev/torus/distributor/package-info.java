/**
 * The cluster as a {@link dev.torus.storage.BlockStore}: the {@link
 * dev.torus.distributor.Distributor} places blocks with the ring, writes replicas in parallel,
 * reads with fail-over, caches reads, and makes flushes durable on every replica written.
 */
@NullMarked
package dev.torus.distributor;

import org.jspecify.annotations.NullMarked;
