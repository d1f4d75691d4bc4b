package dev.torus.metadata.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class EtcdConfigTest {
  @TempDir Path dir;

  private static AbstractThrowableAssert<?, ? extends Throwable> assertInvalid(Runnable r) {
    return assertThatThrownBy(r::run).isInstanceOf(TorusException.class)
        .satisfies(e -> assertThat(((TorusException) e).code())
            .isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }

  @Test
  void endpointsParseFromTheFlagForm() {
    EtcdConfig c = EtcdConfig.of(" 10.0.0.1:2379,etcd-2.example:2380 ,[::1]:2379");
    assertThat(c.endpoints()).containsExactly(URI.create("http://10.0.0.1:2379"),
        URI.create("http://etcd-2.example:2380"), URI.create("http://[::1]:2379"));
    assertThat(c.describeEndpoints())
        .isEqualTo("http://10.0.0.1:2379,http://etcd-2.example:2380,http://[::1]:2379");
    assertThat(EtcdConfig.of("https://a:1,HTTPS://b:2/").endpoints())
        .containsExactly(URI.create("https://a:1"), URI.create("https://b:2"));
    assertThat(c.callTimeout()).isEqualTo(EtcdConfig.DEFAULT_CALL_TIMEOUT);
    assertThat(c.rootPrefix()).isEqualTo("/torus");
    assertThat(c.tls()).isNull();
  }

  @Test
  void badEndpointsSayWhatIsWrong() {
    assertInvalid(() -> EtcdConfig.of("")).hasMessageContaining("HOST:PORT");
    assertInvalid(() -> EtcdConfig.of("a:1,,b:2")).hasMessageContaining("empty");
    assertInvalid(() -> EtcdConfig.of("localhost")).hasMessageContaining("port");
    assertInvalid(() -> EtcdConfig.of("a:99999")).hasMessageContaining("port");
    assertInvalid(() -> EtcdConfig.of("ftp://a:1")).hasMessageContaining("http or https");
    assertInvalid(() -> EtcdConfig.of("http://a:1/v3/kv")).hasMessageContaining("only scheme");
    assertInvalid(() -> EtcdConfig.of("http://a:1,https://b:2")).hasMessageContaining("mix");
  }

  @Test
  void tlsIsAllOrNothing() throws Exception {
    Path cert = Files.writeString(dir.resolve("client.pem"), "cert");
    Path key = Files.writeString(dir.resolve("client-key.pem"), "key");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
    assertThat(EtcdConfig.Tls.of(null, null, null)).isNull();
    assertInvalid(() -> EtcdConfig.Tls.of(cert, null, null))
        .hasMessageContaining("missing: key, CA");
    assertInvalid(() -> EtcdConfig.Tls.of(null, key, ca))
        .hasMessageContaining("missing: certificate");
    assertInvalid(() -> EtcdConfig.Tls.of(cert, key, dir.resolve("nope.pem")))
        .hasMessageContaining("nope.pem");

    EtcdConfig.Tls tls = EtcdConfig.Tls.of(cert, key, ca);
    EtcdConfig c = EtcdConfig.of("a:2379,b:2379", tls);
    assertThat(c.endpoints()).extracting(URI::getScheme).containsOnly("https");
    assertInvalid(() -> EtcdConfig.of("http://a:2379", tls)).hasMessageContaining("plain http");
  }

  @Test
  void timeoutsAndPrefixAreChecked() {
    EtcdConfig c = EtcdConfig.of("a:1");
    assertInvalid(() -> c.withCallTimeout(Duration.ZERO)).hasMessageContaining("call timeout");
    assertInvalid(() -> c.withConnectTimeout(Duration.ofSeconds(-1)));
    for (String bad : List.of("torus", "/", "//x", "")) {
      assertInvalid(() -> c.withRootPrefix(bad)).hasMessageContaining("root prefix");
    }
    assertThat(c.withRootPrefix("/cluster-b").withCallTimeout(Duration.ofSeconds(1)))
        .satisfies(d -> assertThat(d.rootPrefix()).isEqualTo("/cluster-b"))
        .satisfies(d -> assertThat(d.callTimeout()).isEqualTo(Duration.ofSeconds(1)));
  }
}
