package dev.torus.server;

import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.nbd.NbdTls;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The NBD listeners {@code torusd} was asked for with {@code --nbd} and {@code --nbd-unix}. Only
 * those given are opened: {@code --nbd-unix} alone must not also open the default TCP port.
 *
 * @param tcp the {@code --nbd} address, or null
 * @param unix the {@code --nbd-unix} socket path, or null
 * @param idlePoll the {@code --nbd-idle-poll} time ({@link NbdServerConfig#idlePoll()})
 * @param tls what the {@code --nbd-tls-*} options name, or null
 */
record NbdListeners(@Nullable InetSocketAddress tcp, @Nullable Path unix, Duration idlePoll,
    @Nullable NbdTls tls) {
  /** Whether any NBD listener was asked for. */
  boolean any() {
    return tcp != null || unix != null;
  }

  /** A server configuration with exactly these listeners; call only if {@link #any()}. */
  NbdServerConfig config() {
    return NbdServerConfig.builder().bindAddress(tcp).unixSocket(unix).idlePoll(idlePoll).tls(tls)
        .description("Torus volume").build();
  }

  /** Where {@code server}, started from {@link #config()}, serves, as NBD URIs, and its TLS. */
  String describe(NbdServer server) {
    List<String> uris = new ArrayList<>();
    if (tcp != null) {
      InetSocketAddress bound = server.boundAddress();
      uris.add("nbd://" + bound.getHostString() + ":" + bound.getPort());
    }
    if (unix != null) {
      uris.add("nbd+unix:///?socket=" + unix);
    }
    return String.join(" and ", uris) + (tls == null ? "" : " (" + tls.mode() + ")");
  }
}
