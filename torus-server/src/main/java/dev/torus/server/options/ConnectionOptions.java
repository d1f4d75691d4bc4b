package dev.torus.server.options;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.client.MetadataLocation;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Where the metadata lives, shared by every command of {@code torusd}, {@code torusctl} and
 * {@code torusblk}: etcd (with optional TLS) or the embedded store.
 *
 * <p>Each setting is taken from the first of these that gives it:
 *
 * <ol>
 *   <li>the command line: {@code -C}, the {@code --etcd-*-file} flags, {@code --metadata};
 *   <li>the profile ({@code --profile}, default {@value ConfigFile#DEFAULT_PROFILE}) of the config
 *       file ({@code --config}, default {@code ~/.torus/config.json} if it exists);
 *   <li>the environment: {@code $TORUS_ETCD}, then {@code $TORUS_METADATA};
 *   <li>the default: the embedded store in {@code ~/.torus/metadata.db}.
 * </ol>
 *
 * Naming a store replaces one named further down: {@code --metadata} on the command line wins
 * over the etcd endpoints of the profile, and so on. The TLS files go with whichever etcd
 * endpoints win. Not thread-safe: picocli fills it, then one command reads it.
 */
public final class ConnectionOptions {
  /** The environment variable with etcd endpoints, as {@code -C} takes them. */
  private static final String ETCD_VARIABLE = "TORUS_ETCD";

  @Option(names = {"-C", "--etcd"}, scope = ScopeType.INHERIT, split = ",",
      paramLabel = "HOST:PORT",
      description = "etcd endpoints (comma-separated); without this (or a profile, or $TORUS_ETCD)"
          + " the embedded metadata store is used")
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

  @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "config file with connection profiles (default: ~/.torus/config.json)")
  private @Nullable Path config;

  @Option(names = "--profile", scope = ScopeType.INHERIT, paramLabel = "NAME",
      description = "profile of the config file to use (default: " + ConfigFile.DEFAULT_PROFILE
          + "); the command line overrides its settings")
  private @Nullable String profile;

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "print stack traces on failure")
  private boolean debug;

  private Map<String, String> env = System.getenv();
  private Path home = Path.of(System.getProperty("user.home"));

  /** For tests: read environment variables from {@code env} and use {@code home} for {@code ~}. */
  public ConnectionOptions withEnvironment(Map<String, String> env, Path home) {
    this.env = env;
    this.home = home;
    return this;
  }

  /** The metadata location the settings name, in the order the class comment gives. */
  public MetadataLocation location() {
    return defaults().overriddenBy(environment()).overriddenBy(profile())
        .overriddenBy(commandLine()).location();
  }

  private ConnectionProfile defaults() {
    return new ConnectionProfile(null, null, null, null,
        EmbeddedMetadata.defaultLocation(Optional.empty(), home));
  }

  private ConnectionProfile environment() {
    String endpoints = env.get(ETCD_VARIABLE);
    if (endpoints != null && !endpoints.isBlank()) {
      return new ConnectionProfile(endpoints, null, null, null, null);
    }
    String file = env.get(EmbeddedMetadata.LOCATION_VARIABLE);
    return file == null || file.isBlank() ? ConnectionProfile.EMPTY
        : new ConnectionProfile(null, null, null, null, Path.of(file));
  }

  /** The settings given on the command line only. */
  public ConnectionProfile commandLine() {
    return new ConnectionProfile(etcd.isEmpty() ? null : String.join(",", etcd), etcdCert, etcdKey,
        etcdCa, metadata);
  }

  /**
   * The selected profile of the config file. Without {@code --config} and {@code --profile}, a
   * missing file or profile means no settings; once named, either must exist ({@code NOT_FOUND}).
   */
  private ConnectionProfile profile() {
    Path file = configFile();
    if (config == null && profile == null && !Files.exists(file)) {
      return ConnectionProfile.EMPTY;
    }
    ConfigFile read = ConfigFile.read(file);
    Optional<ConnectionProfile> selected = read.profile(profileName());
    if (selected.isEmpty() && profile != null) {
      throw new TorusException(ErrorCode.NOT_FOUND, "profile '" + profile + "' does not exist in "
          + file + " (it has: " + (read.profiles().isEmpty() ? "none"
              : String.join(", ", read.profiles().keySet()))
          + "); write it with 'torusctl config --profile " + profile + "'");
    }
    return selected.orElse(ConnectionProfile.EMPTY);
  }

  /** The config file: {@code --config}, or {@code ~/.torus/config.json}. */
  public Path configFile() {
    return config != null ? config : ConfigFile.defaultPath(home);
  }

  /** The profile name: {@code --profile}, or {@value ConfigFile#DEFAULT_PROFILE}. */
  public String profileName() {
    return profile != null ? profile : ConfigFile.DEFAULT_PROFILE;
  }

  public boolean debug() {
    return debug;
  }
}
