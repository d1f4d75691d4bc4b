package dev.torus.client;

import dev.torus.metadata.MetadataService;
import dev.torus.storage.BlockStore;
import dev.torus.volume.VolumeCatalog;
import dev.torus.volume.VolumeService;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open connection to a Torus cluster: metadata, the block store (local or the cluster) and the
 * volume service over them. Made by {@link Torus}; thread-safe. {@link #close()} releases
 * everything it opened in reverse order; close the volumes you opened first.
 */
public final class TorusClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TorusClient.class);

  private final MetadataService metadata;
  private final BlockStore blocks;
  private final VolumeService volumes;
  private final Deque<AutoCloseable> resources;

  TorusClient(MetadataService metadata, BlockStore blocks, VolumeService volumes,
      Deque<AutoCloseable> resources) {
    this.metadata = metadata;
    this.blocks = blocks;
    this.volumes = volumes;
    this.resources = new ArrayDeque<>(resources);
  }

  /** The cluster metadata. */
  public MetadataService metadata() {
    return metadata;
  }

  /** Where blocks are read and written: the cluster, or the local store in local mode. */
  public BlockStore blocks() {
    return blocks;
  }

  /** Opens volumes. */
  public VolumeService volumes() {
    return volumes;
  }

  /** Creates, lists, grows, snapshots and clones volumes. */
  public VolumeCatalog catalog() {
    return volumes.catalog();
  }

  @Override
  public void close() {
    synchronized (resources) {
      while (!resources.isEmpty()) {
        AutoCloseable r = resources.pop();
        try {
          r.close();
        } catch (Exception e) {
          log.warn("closing {} failed: {}", r, e.getMessage());
        }
      }
    }
  }
}
