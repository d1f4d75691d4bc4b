package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.internal.concurrent.Futures;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.ModelBlockDevice;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class ConfigAndResolverTest {
  @Test
  void defaultsListenOnLoopbackPort10809() {
    NbdServerConfig d = NbdServerConfig.DEFAULT;

    assertThat(d.bindAddress().getAddress().isLoopbackAddress()).isTrue();
    assertThat(d.bindAddress().getPort()).isEqualTo(10809);
    assertThat(d.unixSocket()).isNull();
    assertThat(d.readOnly()).isFalse();
    assertThat(d.maxPayload()).isEqualTo(32 << 20);
    assertThat(d.idlePoll()).isEqualTo(Duration.ofNanos(50_000));
  }

  @Test
  void rejectsValuesThatWouldBreakTheProtocol() {
    assertThatThrownBy(() -> NbdServerConfig.builder().maxPayload(4096).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NbdServerConfig.builder().maxInFlight(0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NbdServerConfig.builder().handshakeTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NbdServerConfig.builder().idlePoll(Duration.ofNanos(-1)).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NbdServerConfig.builder().idlePoll(Duration.ofMillis(11)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("between 0 and 10 ms");
    assertThatThrownBy(() -> NbdServerConfig.builder().description("x".repeat(4097)).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NbdServerConfig.builder().bindAddress(null).build())
        .as("a server without listeners").isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ExportInfo("x".repeat(4097), "", 0, 512, false, false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @EnumSource(NbdTransport.class)
  void aTakenPortFailsWithTheAddressAndWhatToDo(NbdTransport transport) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      NbdServerConfig config = NbdServerConfig.builder().port(taken.getLocalPort()).build();
      ExportResolver resolver = ExportResolver.ofDevices(Map.of());

      assertThatThrownBy(() -> NbdServer.start(config, resolver, transport))
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE))
          .hasMessageStartingWith("cannot listen for NBD on 127.0.0.1:" + taken.getLocalPort()
              + ": Address already in use (another process listens there");
    }
  }

  @Test
  void aRestrictedResolverServesOnlyItsVolumesAndTheirSnapshots() {
    ModelBlockDevice device = new ModelBlockDevice(4096, 512);
    Map<String, BlockDevice> devices = new LinkedHashMap<>();
    for (String name : List.of("a", "a@monday", "ab", "b", "b@monday")) {
      devices.put(name, device);
    }
    ExportResolver only =
        ExportResolver.restrictedTo(Set.of("a"), ExportResolver.ofDevices(devices));

    assertThat(Futures.join(only.list())).extracting(ExportInfo::name)
        .containsExactly("a", "a@monday");
    assertThat(Futures.join(only.describe("a@monday")).name()).isEqualTo("a@monday");
    Futures.join(only.open("a", false)).close();
    for (String hidden : List.of("ab", "b", "b@monday", "")) {
      assertThatThrownBy(() -> Futures.join(only.open(hidden, false))).as(hidden)
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
      assertThatThrownBy(() -> Futures.join(only.describe(hidden))).as(hidden)
          .isInstanceOfSatisfying(TorusException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }
  }

  @Test
  void sharedDevicesAreNeverClosedByConnections() {
    ModelBlockDevice model = new ModelBlockDevice(4096, 512);
    ExportResolver resolver = ExportResolver.ofDevices(Map.of("m", model));

    Futures.join(resolver.open("m", false)).close();

    assertThat(model.isClosed()).isFalse();
    assertThat(Futures.join(resolver.describe("m")))
        .isEqualTo(new ExportInfo("m", "", 4096, 512, false, true));
    assertThatThrownBy(() -> Futures.join(resolver.open("x", false)))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
  }

  @Test
  void theDefaultDescribeLooksTheNameUpInTheList() {
    ExportInfo a = new ExportInfo("a", "first", 10, 512, true, false);
    ExportResolver listOnly = new ExportResolver() {
      @Override
      public CompletableFuture<List<ExportInfo>> list() {
        return CompletableFuture.completedFuture(List.of(a));
      }

      @Override
      public CompletableFuture<BlockDevice> open(String name, boolean readOnly) {
        throw new UnsupportedOperationException();
      }
    };

    assertThat(Futures.join(listOnly.describe("a"))).isEqualTo(a);
    assertThatThrownBy(() -> Futures.join(listOnly.describe("b")))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
  }
}
