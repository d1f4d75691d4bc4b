/**
 * Block stores: where fixed-size blocks live, keyed by {@link dev.torus.BlockRef}. {@link
 * dev.torus.storage.BlockStore} is the SPI; {@link dev.torus.storage.BlockStores} builds the
 * in-memory and the durable file-backed implementations.
 */
@NullMarked
package dev.torus.storage;

import org.jspecify.annotations.NullMarked;
