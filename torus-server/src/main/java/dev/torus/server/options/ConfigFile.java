package dev.torus.server.options;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The tools' config file: named profiles of connection settings, by default in {@code
 * ~/.torus/config.json}, written by {@code torusctl config}. Immutable; {@link #read} and {@link
 * #write} do the I/O.
 *
 * <p>Format, the original Torus' plus the {@code metadata} setting (unknown settings are refused,
 * so that a typo cannot silently drop TLS):
 *
 * <pre>{@code
 * {
 *   "etcd_config": {
 *     "default": {"etcd": "10.0.0.1:2379", "etcd-ca-file": "/etc/torus/ca.pem",
 *                 "etcd-cert-file": "/etc/torus/client.pem",
 *                 "etcd-key-file": "/etc/torus/client-key.pem"},
 *     "laptop": {"metadata": "/home/me/.torus/metadata.db"}
 *   }
 * }
 * }</pre>
 *
 * @param profiles the profiles by name, sorted
 */
public record ConfigFile(SortedMap<String, ConnectionProfile> profiles) {
  /** The profile the tools use unless {@code --profile} names another. */
  public static final String DEFAULT_PROFILE = "default";

  private static final String PROFILES = "etcd_config";
  private static final String ETCD = "etcd";
  private static final String CERT = "etcd-cert-file";
  private static final String KEY = "etcd-key-file";
  private static final String CA = "etcd-ca-file";
  private static final String METADATA = "metadata";
  private static final List<String> SETTINGS = List.of(ETCD, CA, CERT, KEY, METADATA);

  public ConfigFile {
    profiles = Collections.unmodifiableSortedMap(new TreeMap<>(profiles));
  }

  /** A file without profiles. */
  public static ConfigFile empty() {
    return new ConfigFile(new TreeMap<>());
  }

  /** {@code .torus/config.json} under {@code home}. */
  public static Path defaultPath(Path home) {
    return home.resolve(".torus").resolve("config.json");
  }

  /** The profile called {@code name}, if the file has it. */
  public Optional<ConnectionProfile> profile(String name) {
    return Optional.ofNullable(profiles.get(name));
  }

  /** This file with profile {@code name} set to {@code profile}. */
  public ConfigFile with(String name, ConnectionProfile profile) {
    if (name.isBlank()) {
      throw TorusExceptions.invalid("a profile needs a name");
    }
    TreeMap<String, ConnectionProfile> next = new TreeMap<>(profiles);
    next.put(name, profile);
    return new ConfigFile(next);
  }

  /**
   * Reads {@code file}. Fails with {@code NOT_FOUND} if it does not exist and {@code
   * INVALID_ARGUMENT} if it is malformed, naming the file (and the line and column of a syntax
   * error).
   */
  public static ConfigFile read(Path file) {
    if (!Files.exists(file)) {
      throw new TorusException(ErrorCode.NOT_FOUND, "config file " + file
          + " does not exist; write it with 'torusctl config'");
    }
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw TorusExceptions.io("reading config file " + file, e);
    }
  }

  /** Parses a config file's text; {@code source} names it in errors. */
  public static ConfigFile parse(String text, String source) {
    Object root = Json.parse(text, source);
    SortedMap<String, ConnectionProfile> profiles = new TreeMap<>();
    Object all = object(root, source, "the file").getOrDefault(PROFILES, Map.of());
    for (Map.Entry<String, Object> e : object(all, source, "\"" + PROFILES + "\"").entrySet()) {
      profiles.put(e.getKey(), profile(e.getKey(), e.getValue(), source));
    }
    return new ConfigFile(profiles);
  }

  private static ConnectionProfile profile(String name, Object value, String source) {
    String where = "profile \"" + name + "\"";
    Map<String, Object> settings = object(value, source, where);
    for (String key : settings.keySet()) {
      if (!SETTINGS.contains(key)) {
        throw TorusExceptions.invalid(source + ": unknown setting \"" + key + "\" in " + where
            + "; the settings are " + String.join(", ", SETTINGS));
      }
    }
    String etcd = string(settings, ETCD, source, where);
    Path cert = path(settings, CERT, source, where);
    Path key = path(settings, KEY, source, where);
    Path ca = path(settings, CA, source, where);
    Path metadata = path(settings, METADATA, source, where);
    try {
      return new ConnectionProfile(etcd, cert, key, ca, metadata);
    } catch (TorusException e) {
      throw TorusExceptions.invalid(source + ": " + where + ": " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked") // Json gives objects as Map<String, Object>
  private static Map<String, Object> object(Object value, String source, String what) {
    if (!(value instanceof Map<?, ?>)) {
      throw TorusExceptions.invalid(source + ": " + what + " must be a JSON object, not " + value);
    }
    return (Map<String, Object>) value;
  }

  private static @Nullable String string(Map<String, Object> settings, String key, String source,
      String where) {
    Object v = settings.get(key);
    if (v != null && !(v instanceof String)) {
      throw TorusExceptions.invalid(source + ": \"" + key + "\" in " + where
          + " must be a string, not " + v);
    }
    return v == null || ((String) v).isEmpty() ? null : (String) v; // the original omits empties
  }

  private static @Nullable Path path(Map<String, Object> settings, String key, String source,
      String where) {
    String s = string(settings, key, source, where);
    return s == null ? null : Path.of(s);
  }

  /** The file's text: tab-indented JSON, settings in a fixed order, absent ones left out. */
  public String toJson() {
    Map<String, Object> all = new LinkedHashMap<>();
    profiles.forEach((name, p) -> {
      Map<String, String> settings = new LinkedHashMap<>();
      put(settings, ETCD, p.etcd());
      put(settings, CA, p.caFile());
      put(settings, CERT, p.certFile());
      put(settings, KEY, p.keyFile());
      put(settings, METADATA, p.metadata());
      all.put(name, settings);
    });
    return Json.write(Map.of(PROFILES, all));
  }

  private static void put(Map<String, String> settings, String key, @Nullable Object value) {
    if (value != null) {
      settings.put(key, value.toString());
    }
  }

  /**
   * Writes the file, readable by its owner only (0600), replacing it atomically; creates its
   * directory (0700) if needed.
   */
  public void write(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      // Created 0600 before anything is written, so credentials' paths are never world-readable.
      Path tmp = Files.createTempFile(dir, ".config-", ".json.tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try {
        Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw TorusExceptions.io("writing config file " + file, e);
    }
  }
}
