package dev.torus.cli;

import dev.torus.metadata.MetadataService;
import dev.torus.volume.VolumeCatalog;

/** What a command works with: a metadata connection and the volume catalog over it. */
public interface CliSession extends AutoCloseable {
  MetadataService metadata();

  VolumeCatalog catalog();

  @Override
  void close();
}
