package dev.torus.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class PeerAddressTest {
  @ParameterizedTest
  @CsvSource({
      "tcp://10.0.0.5:40000, tcp, 10.0.0.5, 40000",
      "TCP://node-1.example:1, tcp, node-1.example, 1",
      "tcp://[fd00::5]:65535, tcp, fd00::5, 65535",
      "local://a:7, local, a, 7"})
  void parsesSchemeHostAndPort(String text, String scheme, String host, int port) {
    PeerAddress address = PeerAddress.parse(text);
    assertThat(address).isEqualTo(new PeerAddress(scheme, host, port));
    assertThat(PeerAddress.parse(address.toString())).isEqualTo(address);
  }

  @Test
  void portZeroIsABindAddressForAnyFreePort() {
    assertThat(PeerAddress.parse("tcp://127.0.0.1:0").port()).isZero();
  }

  @Test
  void printsIpv6HostsInBrackets() {
    assertThat(new PeerAddress("tcp", "::1", 4000)).hasToString("tcp://[::1]:4000");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "10.0.0.5:40000 | has no scheme",
      "tcp://10.0.0.5 | has no port",
      "tcp://10.0.0.5: | has no port",
      "tcp://:40000 | has no valid host",
      "tcp://10.0.0.5:70000 | port out of range",
      "tcp://10.0.0.5:4000/data | more than scheme, host and port",
      "tcp://me@10.0.0.5:4000 | more than scheme, host and port",
      "tcp://10.0.0.5:4000?x=1 | more than scheme, host and port",
      "tcp://bad host:4000 | is malformed"})
  void refusesWhatIsNotSchemeHostPort(String text, String message) {
    assertThatThrownBy(() -> PeerAddress.parse(text))
        .isInstanceOfSatisfying(TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
          assertThat(e.getMessage()).contains(message);
        });
  }

  @Test
  void requireSchemeNamesBothSchemes() {
    assertThatThrownBy(() -> PeerAddress.parse("http://h:1").requireScheme("tcp"))
        .isInstanceOf(TorusException.class).hasMessageContaining("'http'")
        .hasMessageContaining("tcp://");
  }

  @Test
  void isBuiltFromABoundSocketWithoutLookup() {
    assertThat(PeerAddress.of("tcp", new InetSocketAddress("127.0.0.1", 4000)))
        .hasToString("tcp://127.0.0.1:4000");
    assertThat(new PeerAddress("tcp", "h", 1).toSocketAddress().isUnresolved()).isTrue();
  }
}
