/**
 * Metadata over a transactional key-value store. {@link dev.torus.metadata.kv.KvStore} is the small
 * etcd-shaped SPI (ranges, compare-and-swap transactions, leases, watches) that the embedded store
 * and etcd both implement; {@link dev.torus.metadata.kv.KvMetadata} builds the one {@link
 * dev.torus.metadata.MetadataService} on top of it, so the key schema, the record encoding and
 * every transaction are written once.
 */
@NullMarked
package dev.torus.metadata.kv;

import org.jspecify.annotations.NullMarked;
