/**
 * Cluster metadata: volumes, their committed map roots, write locks on leases, snapshots, the
 * ring and the peer registry. {@link dev.torus.metadata.MetadataService} is the one interface
 * behind which both the embedded store and etcd sit; both pass one contract suite.
 */
@NullMarked
package dev.torus.metadata;

import org.jspecify.annotations.NullMarked;
