/**
 * The etcd metadata store: the {@link dev.torus.metadata.MetadataService} on an etcd v3 cluster,
 * for every multi-host deployment. {@link dev.torus.metadata.etcd.EtcdMetadata} connects it,
 * configured by {@link dev.torus.metadata.etcd.EtcdConfig}. The only package in Torus that
 * imports {@code io.etcd} or {@code io.grpc}.
 */
@NullMarked
package dev.torus.metadata.etcd;

import org.jspecify.annotations.NullMarked;
