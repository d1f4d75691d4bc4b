package dev.torus.server.options;

import dev.torus.metadata.embedded.EmbeddedMetadata;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Where the metadata lives, shared by every command: etcd ({@code -C}, or {@code $TORUS_ETCD}) or
 * the embedded store ({@code --metadata}, or {@code $TORUS_METADATA}, default {@code
 * ~/.torus/metadata.db}). Values from the command line win over the environment.
 */
public final class ConnectionOptions {
  @Option(names = {"-C", "--etcd"}, scope = ScopeType.INHERIT, split = ",", paramLabel = "HOST:PORT",
      description = "etcd endpoints (comma-separated); without this the embedded metadata store is used."
          + " Env: TORUS_ETCD.")
  private List<String> etcd = List.of();

  @Option(names = "--etcd-cert-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "TLS client certificate for etcd")
  private @Nullable Path etcdCert;

  @Option(names = "--etcd-key-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "TLS client key for etcd")
  private @Nullable Path etcdKey;

  @Option(names = "--etcd-ca-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "TLS certificate authority for etcd")
  private @Nullable Path etcdCa;

  @Option(names = "--metadata", scope = ScopeType.INHERIT, paramLabel = "PATH",
      description = "embedded metadata database (default: $TORUS_METADATA or ~/.torus/metadata.db)")
  private @Nullable Path metadata;

  @Option(names = "--debug", scope = ScopeType.INHERIT, description = "print stack traces on failure")
  private boolean debug;

  private Map<String, String> env = System.getenv();

  /** For tests: read the environment from {@code env} instead of the process. */
  public ConnectionOptions withEnvironment(Map<String, String> env) {
    this.env = env;
    return this;
  }

  /** The etcd endpoints, empty when the embedded store is meant. */
  public List<String> etcdEndpoints() {
    if (!etcd.isEmpty()) {
      return etcd;
    }
    String fromEnv = env.get("TORUS_ETCD");
    return fromEnv == null || fromEnv.isBlank() ? List.of() : List.of(fromEnv.split(","));
  }

  public Optional<Path> etcdCertFile() {
    return Optional.ofNullable(etcdCert);
  }

  public Optional<Path> etcdKeyFile() {
    return Optional.ofNullable(etcdKey);
  }

  public Optional<Path> etcdCaFile() {
    return Optional.ofNullable(etcdCa);
  }

  /** The embedded database file. */
  public Path metadataFile() {
    if (metadata != null) {
      return metadata;
    }
    return EmbeddedMetadata.defaultLocation(
        Optional.ofNullable(env.get(EmbeddedMetadata.LOCATION_VARIABLE)),
        Path.of(System.getProperty("user.home")));
  }

  public boolean debug() {
    return debug;
  }
}
