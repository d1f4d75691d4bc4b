package dev.torus.server.options;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.client.MetadataLocation;
import dev.torus.metadata.etcd.EtcdConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;

/** The order the settings are taken in: command line, profile, environment, default. */
final class ConnectionOptionsTest {
  @Command(name = "tool")
  static final class Tool {
    @Mixin ConnectionOptions options;
  }

  @TempDir
  Path home;

  Path cert;
  Path key;
  Path ca;

  @BeforeEach
  void tlsFiles() throws IOException {
    cert = Files.writeString(home.resolve("c.pem"), "cert");
    key = Files.writeString(home.resolve("k.pem"), "key");
    ca = Files.writeString(home.resolve("ca.pem"), "ca");
  }

  ConnectionOptions parse(Map<String, String> env, String... args) {
    Tool tool = new Tool();
    new CommandLine(tool).parseArgs(args);
    return tool.options.withEnvironment(env, home);
  }

  MetadataLocation location(Map<String, String> env, String... args) {
    return parse(env, args).location();
  }

  void writeDefaultConfig(ConfigFile config) {
    config.write(ConfigFile.defaultPath(home));
  }

  static MetadataLocation embedded(Path file) {
    return MetadataLocation.embedded(file);
  }

  static List<URI> endpoints(MetadataLocation location) {
    assertThat(location).isInstanceOf(MetadataLocation.Etcd.class);
    return ((MetadataLocation.Etcd) location).config().endpoints();
  }

  static EtcdConfig.Tls tls(MetadataLocation location) {
    return ((MetadataLocation.Etcd) location).config().tls();
  }

  @Test
  void withNothingGivenItIsTheEmbeddedStoreInTheHomeDirectory() {
    assertThat(location(Map.of())).isEqualTo(embedded(home.resolve(".torus/metadata.db")));
  }

  @Test
  void theEnvironmentNamesAStoreAndEtcdWinsThere() {
    assertThat(location(Map.of("TORUS_METADATA", "/m.db"))).isEqualTo(embedded(Path.of("/m.db")));
    assertThat(endpoints(location(Map.of("TORUS_ETCD", "a:1,b:2", "TORUS_METADATA", "/m.db"))))
        .containsExactly(URI.create("http://a:1"), URI.create("http://b:2"));
  }

  @Test
  void theDefaultProfileWinsOverTheEnvironment() {
    writeDefaultConfig(ConfigFile.empty().with("default",
        new ConnectionProfile("p:1", cert, key, ca, null)));
    MetadataLocation l = location(Map.of("TORUS_ETCD", "e:1", "TORUS_METADATA", "/m.db"));
    assertThat(endpoints(l)).containsExactly(URI.create("https://p:1"));
    assertThat(tls(l)).isEqualTo(new EtcdConfig.Tls(cert, key, ca));
  }

  @Test
  void theCommandLineWinsOverTheProfileSettingBySetting() {
    writeDefaultConfig(ConfigFile.empty()
        .with("default", new ConnectionProfile("p:1", cert, key, ca, null))
        .with("local", new ConnectionProfile(null, null, null, null, Path.of("/local.db"))));
    MetadataLocation l = location(Map.of(), "-C", "c:1", "--etcd-ca-file", cert.toString());
    assertThat(endpoints(l)).as("-C replaces the endpoints")
        .containsExactly(URI.create("https://c:1"));
    assertThat(tls(l)).as("the profile's other TLS files stay")
        .isEqualTo(new EtcdConfig.Tls(cert, key, cert));
    assertThat(location(Map.of(), "--metadata", "/cli.db"))
        .as("--metadata replaces the profile's etcd").isEqualTo(embedded(Path.of("/cli.db")));
    assertThat(location(Map.of(), "--profile", "local")).isEqualTo(embedded(Path.of("/local.db")));
    assertThat(endpoints(location(Map.of(), "--profile", "local", "-C", "c:1")))
        .containsExactly(URI.create("http://c:1"));
  }

  @Test
  void anExplicitConfigFileIsUsedAndMustExist() {
    Path file = home.resolve("elsewhere.json");
    ConfigFile.empty().with("default", new ConnectionProfile("x:1", null, null, null, null))
        .write(file);
    assertThat(endpoints(location(Map.of(), "--config", file.toString())))
        .containsExactly(URI.create("http://x:1"));
    assertCode(ErrorCode.NOT_FOUND, () -> location(Map.of(), "--config", home.resolve("no.json")
        .toString()), "no.json does not exist");
  }

  @Test
  void aNamedProfileMustExistButTheDefaultOneNeedNot() {
    assertCode(ErrorCode.NOT_FOUND, () -> location(Map.of(), "--profile", "prod"),
        "config.json does not exist");
    writeDefaultConfig(ConfigFile.empty().with("test", new ConnectionProfile("t:1", null, null,
        null, null)));
    assertCode(ErrorCode.NOT_FOUND, () -> location(Map.of(), "--profile", "prod"),
        "profile 'prod' does not exist in " + ConfigFile.defaultPath(home) + " (it has: test)");
    assertThat(location(Map.of())).as("no default profile: the default store")
        .isEqualTo(embedded(home.resolve(".torus/metadata.db")));
  }

  @Test
  void contradictionsAreRefused() {
    assertCode(ErrorCode.INVALID_ARGUMENT, () -> location(Map.of(), "-C", "a:1", "--metadata",
        "/m.db"), "give either etcd endpoints (a:1) or an embedded metadata file (/m.db)");
    assertCode(ErrorCode.INVALID_ARGUMENT, () -> location(Map.of(), "--etcd-ca-file",
        ca.toString()), "the etcd TLS files do not apply to the embedded metadata file");
    assertCode(ErrorCode.INVALID_ARGUMENT, () -> location(Map.of(), "-C", "a:1", "--etcd-ca-file",
        ca.toString()), "missing: certificate, key");
  }

  @Test
  void tlsFilesOnTheCommandLineGoWithEtcdFromTheEnvironment() {
    MetadataLocation l = location(Map.of("TORUS_ETCD", "e:1"), "--etcd-cert-file", cert.toString(),
        "--etcd-key-file", key.toString(), "--etcd-ca-file", ca.toString());
    assertThat(endpoints(l)).containsExactly(URI.create("https://e:1"));
    assertThat(tls(l)).isEqualTo(new EtcdConfig.Tls(cert, key, ca));
  }

  @Test
  void aBrokenConfigFileIsAClearError() throws IOException {
    Path file = ConfigFile.defaultPath(home);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{\"etcd_config\": {\"default\": {\"etcd\": \"a:1\"}}");
    assertCode(ErrorCode.INVALID_ARGUMENT, () -> location(Map.of()),
        file + ":1:45: malformed JSON: expected ',' or '}'");
  }

  static void assertCode(ErrorCode code, Runnable call, String message) {
    assertThatThrownBy(call::run).isInstanceOf(TorusException.class).hasMessageContaining(message)
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(code));
  }
}
