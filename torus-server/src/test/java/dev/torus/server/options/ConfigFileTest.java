package dev.torus.server.options;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ConfigFileTest {
  static final ConnectionProfile TLS = new ConnectionProfile("10.0.0.1:2379,10.0.0.2:2379",
      Path.of("/c.pem"), Path.of("/k.pem"), Path.of("/ca.pem"), null);
  static final ConnectionProfile LOCAL = new ConnectionProfile(null, null, null, null,
      Path.of("/var/lib/torus/metadata.db"));

  @TempDir
  Path dir;

  @Test
  void readsTheOriginalTorusFormat() {
    ConfigFile f = ConfigFile.parse("{\"etcd_config\": {\"default\": {\"etcd\": \"127.0.0.1:2379\","
        + " \"etcd-ca-file\": \"\", \"etcd-cert-file\": \"\", \"etcd-key-file\": \"\"}}}",
        "c.json");
    assertThat(f.profile("default")).contains(
        new ConnectionProfile("127.0.0.1:2379", null, null, null, null));
    assertThat(f.profile("other")).isEmpty();
    assertThat(ConfigFile.parse("{}", "c.json").profiles()).isEmpty();
  }

  @Test
  void writesAndReadsBackWithOwnerOnlyPermissions() throws Exception {
    Path file = dir.resolve("home/.torus/config.json");
    ConfigFile f = ConfigFile.empty().with("default", TLS).with("local", LOCAL);
    f.write(file);
    assertThat(ConfigFile.read(file)).isEqualTo(f);
    assertThat(Files.readString(file)).isEqualTo("""
        {
        \t"etcd_config": {
        \t\t"default": {
        \t\t\t"etcd": "10.0.0.1:2379,10.0.0.2:2379",
        \t\t\t"etcd-ca-file": "/ca.pem",
        \t\t\t"etcd-cert-file": "/c.pem",
        \t\t\t"etcd-key-file": "/k.pem"
        \t\t},
        \t\t"local": {
        \t\t\t"metadata": "/var/lib/torus/metadata.db"
        \t\t}
        \t}
        }
        """);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");

    ConfigFile.empty().with("default", LOCAL).write(file); // replaces, keeps the permissions
    assertThat(ConfigFile.read(file).profiles()).containsOnlyKeys("default");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    try (var files = Files.list(file.getParent())) {
      assertThat(files).as("no temporary files left").containsExactly(file);
    }
  }

  @Test
  void malformedFilesNameTheFileAndWhatIsWrong() throws Exception {
    Path file = Files.writeString(dir.resolve("config.json"),
        "{\n\t\"etcd_config\": {\n\t\t\"default\": {\"etcd\": \"a:1\",}\n\t}\n}\n");
    assertInvalid(() -> ConfigFile.read(file),
        file + ":3:29: malformed JSON: expected a member name");
    assertInvalid(() -> ConfigFile.parse("[]", "c.json"), "c.json: the file must be a JSON object");
    assertInvalid(() -> ConfigFile.parse("{\"etcd_config\": {\"p\": {\"etcd\": 2379}}}", "c.json"),
        "c.json: \"etcd\" in profile \"p\" must be a string, not 2379");
    assertInvalid(() -> ConfigFile.parse("{\"etcd_config\": {\"p\": {\"etcd-ca\": \"x\"}}}",
        "c.json"),
        "c.json: unknown setting \"etcd-ca\" in profile \"p\"");
    assertInvalid(() -> ConfigFile.parse("{\"etcd_config\": {\"p\": {\"etcd\": \"a:1\","
        + " \"metadata\": \"/m.db\"}}}", "c.json"),
        "c.json: profile \"p\": give either etcd endpoints");
    assertInvalid(() -> ConfigFile.parse("{\"etcd_config\": []}", "c.json"),
        "c.json: \"etcd_config\" must be a JSON object");
  }

  @Test
  void aMissingFileIsNotFound() {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> ConfigFile.read(missing)).isInstanceOf(TorusException.class)
        .hasMessageContaining(missing.toString()).hasMessageContaining("torusctl config")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
  }

  static void assertInvalid(Runnable call, String messageStart) {
    assertThatThrownBy(call::run).isInstanceOf(TorusException.class)
        .hasMessageStartingWith(messageStart)
        .satisfies(e -> assertThat(((TorusException) e).code())
            .isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }
}
