package dev.torus.metadata.etcd;

import dev.torus.TorusExceptions;
import dev.torus.metadata.kv.KvMetadata;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * How to reach etcd: the endpoints of one cluster, optional TLS, deadlines and the root prefix
 * under which every Torus key lives. Immutable; validated on construction ({@code
 * INVALID_ARGUMENT} with a message that names the bad value). Lease TTLs are not set here but by
 * whoever takes a lease: {@code VolumeConfig.leaseTtl} and {@code torusd --lease-ttl}.
 *
 * @param endpoints {@code http://} or {@code https://} URIs with host and port, all one scheme;
 *     {@code https} whenever {@code tls} is set
 * @param tls client certificate, key and CA, or {@code null} for none
 * @param callTimeout deadline of every call; an unreachable etcd fails within it
 * @param connectTimeout how long one connection attempt may take
 * @param rootPrefix where Torus keys live, e.g. {@code /torus}; several clusters can share one
 *     etcd under different prefixes
 */
public record EtcdConfig(
    List<URI> endpoints, @Nullable Tls tls, Duration callTimeout, Duration connectTimeout,
    String rootPrefix) {
  /** The endpoint used when none is given: a local etcd on its standard port. */
  public static final String DEFAULT_ENDPOINT = "127.0.0.1:2379";
  /** Default deadline of each call. */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(5);
  /** Default connection timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /** PEM files for mutual TLS: the client certificate, its private key and the CA to trust. */
  public record Tls(Path certFile, Path keyFile, Path caFile) {
    public Tls {
      checkReadable("certificate", certFile);
      checkReadable("key", keyFile);
      checkReadable("CA", caFile);
    }

    private static void checkReadable(String what, Path file) {
      Objects.requireNonNull(file, what);
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw TorusExceptions.invalid("etcd TLS " + what + " file " + file
            + " does not exist or is not readable");
      }
    }

    /**
     * TLS from three optional paths, as flags give them: all absent means no TLS; some but not
     * all is an error that names the missing ones.
     */
    public static @Nullable Tls of(@Nullable Path cert, @Nullable Path key, @Nullable Path ca) {
      if (cert == null && key == null && ca == null) {
        return null;
      }
      if (cert == null || key == null || ca == null) {
        List<String> missing = new ArrayList<>();
        if (cert == null) {
          missing.add("certificate");
        }
        if (key == null) {
          missing.add("key");
        }
        if (ca == null) {
          missing.add("CA");
        }
        throw TorusExceptions.invalid("etcd TLS needs a client certificate, its key and the CA"
            + " together; missing: " + String.join(", ", missing));
      }
      return new Tls(cert, key, ca);
    }
  }

  public EtcdConfig {
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(rootPrefix, "rootPrefix");
    if (endpoints.isEmpty()) {
      throw TorusExceptions.invalid("no etcd endpoints given");
    }
    String scheme = endpoints.get(0).getScheme();
    for (URI u : endpoints) {
      if (!u.getScheme().equals(scheme)) {
        throw TorusExceptions.invalid("etcd endpoints mix http and https: " + describe(endpoints));
      }
    }
    if (tls != null && !scheme.equals("https")) {
      throw TorusExceptions.invalid("etcd TLS files are given but the endpoints are plain http: "
          + describe(endpoints) + "; use https:// or drop the scheme");
    }
    positive("call timeout", callTimeout);
    positive("connect timeout", connectTimeout);
    if (!rootPrefix.startsWith("/") || rootPrefix.length() < 2 || rootPrefix.contains("//")) {
      throw TorusExceptions.invalid("etcd root prefix must look like /name, got '" + rootPrefix
          + "'");
    }
  }

  private static void positive(String what, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw TorusExceptions.invalid(what + " must be positive, got " + d);
    }
  }

  /** The endpoints in {@code HOST:PORT[,HOST:PORT...]} form, with defaults for everything else. */
  public static EtcdConfig of(String endpoints) {
    return of(endpoints, null);
  }

  /**
   * Endpoints in {@code HOST:PORT[,HOST:PORT...]} form (each may also be an {@code http://} or
   * {@code https://} URI; a bare entry is https when {@code tls} is given), with defaults for
   * everything else.
   */
  public static EtcdConfig of(String endpoints, @Nullable Tls tls) {
    return new EtcdConfig(parseEndpoints(endpoints, tls != null ? "https" : "http"), tls,
        DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, KvMetadata.DEFAULT_ROOT);
  }

  private static List<URI> parseEndpoints(String spec, String defaultScheme) {
    List<URI> out = new ArrayList<>();
    for (String raw : spec.split(",", -1)) {
      String e = raw.strip();
      if (e.isEmpty()) {
        throw TorusExceptions.invalid("empty etcd endpoint in '" + spec
            + "'; use HOST:PORT[,HOST:PORT...]");
      }
      String withScheme = e.contains("://") ? e : defaultScheme + "://" + e;
      URI u;
      try {
        u = new URI(withScheme);
      } catch (URISyntaxException ex) {
        throw TorusExceptions.invalid("bad etcd endpoint '" + e + "': " + ex.getReason()
            + "; use HOST:PORT");
      }
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw TorusExceptions.invalid("bad etcd endpoint '" + e
            + "': scheme must be http or https");
      }
      if (u.getHost() == null || u.getPort() < 1 || u.getPort() > 65535) {
        throw TorusExceptions.invalid("bad etcd endpoint '" + e + "': it needs a host and a port,"
            + " e.g. 127.0.0.1:2379");
      }
      if ((u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))
          || u.getQuery() != null || u.getUserInfo() != null) {
        throw TorusExceptions.invalid("bad etcd endpoint '" + e + "': only scheme, host and port"
            + " are allowed");
      }
      out.add(URI.create(scheme + "://" + u.getRawAuthority()));
    }
    return out;
  }

  /** This config with another call timeout. */
  public EtcdConfig withCallTimeout(Duration timeout) {
    return new EtcdConfig(endpoints, tls, timeout, connectTimeout, rootPrefix);
  }

  /** This config with another connect timeout. */
  public EtcdConfig withConnectTimeout(Duration timeout) {
    return new EtcdConfig(endpoints, tls, callTimeout, timeout, rootPrefix);
  }

  /** This config with another root prefix. */
  public EtcdConfig withRootPrefix(String prefix) {
    return new EtcdConfig(endpoints, tls, callTimeout, connectTimeout, prefix);
  }

  /** The endpoints, comma-separated, for messages. */
  public String describeEndpoints() {
    return describe(endpoints);
  }

  private static String describe(List<URI> endpoints) {
    return endpoints.stream().map(URI::toString).collect(Collectors.joining(","));
  }
}
