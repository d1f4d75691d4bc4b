package dev.torus.server;

import dev.torus.client.MetadataLocation;
import dev.torus.distributor.DistributorConfig;
import dev.torus.gc.GcConfig;
import dev.torus.volume.VolumeConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a storage node is told at start.
 *
 * @param dataDir where the node keeps its id and its block store
 * @param capacity bytes of block storage
 * @param peerAddress where the node serves its peers, {@code tcp://HOST:PORT}
 * @param autoJoin add this node to the ring at start
 * @param http where to serve {@code /metrics} and {@code /health}, if anywhere
 * @param heartbeat how often the node refreshes its registry record
 * @param leaseTtl how long the record outlives a node that stopped
 */
public record ServerConfig(Path dataDir, long capacity, String peerAddress, boolean autoJoin,
    MetadataLocation metadata, DistributorConfig distributor, VolumeConfig volumes, GcConfig gc,
    Optional<InetSocketAddress> http, Duration heartbeat, Duration leaseTtl) {
  public ServerConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(peerAddress, "peerAddress");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(distributor, "distributor");
    Objects.requireNonNull(volumes, "volumes");
    Objects.requireNonNull(gc, "gc");
    Objects.requireNonNull(http, "http");
    Objects.requireNonNull(heartbeat, "heartbeat");
    Objects.requireNonNull(leaseTtl, "leaseTtl");
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive");
    }
  }
}
