package dev.torus.server.options;

import dev.torus.TorusExceptions;
import dev.torus.client.MetadataLocation;
import dev.torus.metadata.etcd.EtcdConfig;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Connection settings from one source (the command line, or a profile of the config file), each
 * absent unless that source gives it: etcd endpoints and the three TLS files, or the embedded
 * metadata file. Immutable. A profile names etcd or the embedded store, never both, and TLS files
 * only go with etcd ({@code INVALID_ARGUMENT} otherwise).
 *
 * @param etcd endpoints as {@code -C} takes them: {@code HOST:PORT[,HOST:PORT...]}
 * @param certFile TLS client certificate for etcd
 * @param keyFile TLS client key for etcd
 * @param caFile TLS certificate authority for etcd
 * @param metadata the embedded metadata database
 */
public record ConnectionProfile(@Nullable String etcd, @Nullable Path certFile,
    @Nullable Path keyFile, @Nullable Path caFile, @Nullable Path metadata) {
  /** No settings at all. */
  public static final ConnectionProfile EMPTY = new ConnectionProfile(null, null, null, null, null);

  public ConnectionProfile {
    if (metadata != null && etcd != null) {
      throw TorusExceptions.invalid("give either etcd endpoints (" + etcd
          + ") or an embedded metadata file (" + metadata + "), not both");
    }
    if (metadata != null && (certFile != null || keyFile != null || caFile != null)) {
      throw TorusExceptions.invalid("the etcd TLS files do not apply to the embedded metadata file "
          + metadata);
    }
  }

  /**
   * The store these settings name: the embedded file, or etcd with TLS when the three files are
   * given. Fails with {@code INVALID_ARGUMENT} if they name none, or on bad endpoints or TLS files.
   */
  public MetadataLocation location() {
    if (metadata != null) {
      return MetadataLocation.embedded(metadata);
    }
    if (etcd == null) {
      throw TorusExceptions.invalid("no metadata store is named: give -C HOST:PORT or --metadata"
          + " PATH");
    }
    return MetadataLocation.etcd(EtcdConfig.of(etcd, EtcdConfig.Tls.of(certFile, keyFile, caFile)));
  }

  /** Whether no setting is given. */
  public boolean isEmpty() {
    return equals(EMPTY);
  }

  /**
   * These settings with {@code top}'s wherever {@code top} gives one. Naming a store in {@code
   * top} replaces the one named here: its etcd endpoints drop this embedded file, and its embedded
   * file drops these etcd endpoints and TLS files.
   */
  public ConnectionProfile overriddenBy(ConnectionProfile top) {
    boolean keepEtcd = top.metadata == null;
    return new ConnectionProfile(
        top.etcd != null ? top.etcd : keepEtcd ? etcd : null,
        top.certFile != null ? top.certFile : keepEtcd ? certFile : null,
        top.keyFile != null ? top.keyFile : keepEtcd ? keyFile : null,
        top.caFile != null ? top.caFile : keepEtcd ? caFile : null,
        top.metadata != null ? top.metadata : top.etcd == null ? metadata : null);
  }

  /** These settings with every path made absolute, so that they mean the same anywhere. */
  public ConnectionProfile absolute() {
    return new ConnectionProfile(etcd, absolute(certFile), absolute(keyFile), absolute(caFile),
        absolute(metadata));
  }

  private static @Nullable Path absolute(@Nullable Path p) {
    return p == null ? null : p.toAbsolutePath().normalize();
  }

  /**
   * A short description for messages, e.g. {@code etcd 10.0.0.1:2379 with TLS}, of settings that
   * name a store.
   */
  public String describe() {
    if (metadata != null) {
      return "embedded metadata " + metadata;
    }
    boolean tls = certFile != null || keyFile != null || caFile != null;
    return "etcd " + etcd + (tls ? " with TLS" : "");
  }
}
