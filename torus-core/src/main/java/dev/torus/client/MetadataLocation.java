package dev.torus.client;

import dev.torus.metadata.etcd.EtcdConfig;
import java.nio.file.Path;
import java.util.Objects;

/** Where a client finds the cluster's metadata: an embedded database file, or etcd. */
public sealed interface MetadataLocation {
  /** The embedded store in one file, shared by every Torus process on this host. */
  record Embedded(Path file) implements MetadataLocation {
    public Embedded {
      Objects.requireNonNull(file, "file");
    }
  }

  /** An etcd cluster. */
  record Etcd(EtcdConfig config) implements MetadataLocation {
    public Etcd {
      Objects.requireNonNull(config, "config");
    }
  }

  static MetadataLocation embedded(Path file) {
    return new Embedded(file);
  }

  static MetadataLocation etcd(EtcdConfig config) {
    return new Etcd(config);
  }
}
