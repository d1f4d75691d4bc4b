package dev.torus.metadata;

import dev.torus.ring.Ring;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster metadata, in etcd or in the embedded store. Facets keep each interface small. Thread-safe;
 * every method is asynchronous and fails with a {@link dev.torus.TorusException}: {@code
 * NOT_INITIALIZED} before {@link #initialize}, {@code UNAVAILABLE} when the backend cannot be
 * reached (the message names it).
 */
public interface MetadataService extends AutoCloseable {
  /** Where the metadata lives, for messages: e.g. {@code embedded /var/lib/torus/metadata.db}. */
  String location();

  /**
   * Formats the cluster: writes the global settings and the first ring. Fails with {@code
   * ALREADY_EXISTS} if the cluster is already initialised.
   */
  CompletableFuture<Void> initialize(GlobalMetadata global, Ring ring);

  /** The cluster-wide settings; fails with {@code NOT_INITIALIZED} ("run torusctl init"). */
  CompletableFuture<GlobalMetadata> global();

  /** Deletes every Torus key. Data blocks become garbage. */
  CompletableFuture<Void> wipe();

  /** Volumes, roots, locks and snapshots. */
  VolumeMetadata volumes();

  /** The placement ring. */
  RingMetadata rings();

  /** Storage nodes and their heartbeats. */
  PeerRegistry peers();

  /** Leases that locks and peer records hang on. */
  LeaseService leases();

  /**
   * A consistent view of every volume (roots, snapshots, locks, session counters) at one revision,
   * for garbage collection.
   */
  CompletableFuture<ClusterView> view();

  /** Releases connections and stops watches; idempotent. */
  @Override
  void close();
}
