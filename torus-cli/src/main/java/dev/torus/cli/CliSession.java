package dev.torus.cli;

import dev.torus.client.TorusClient;
import dev.torus.metadata.MetadataService;
import dev.torus.volume.VolumeCatalog;

/**
 * What a command works with: a metadata connection and the volume catalog over it, and for the
 * commands that move data, a cluster client (opened on first use).
 */
public interface CliSession extends AutoCloseable {
  MetadataService metadata();

  VolumeCatalog catalog();

  /** A client of the storage nodes, for reading and writing volumes. */
  TorusClient cluster();

  @Override
  void close();
}
