package dev.torus.server;

import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.nbd.NbdTls;
import dev.torus.nbd.VolumeExports;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The NBD listeners {@code torusd} was asked for with {@code --nbd} and {@code --nbd-unix}, and
 * what they serve. Only those given are opened: {@code --nbd-unix} alone must not also open the
 * default TCP port.
 *
 * @param tcp the {@code --nbd} address, or null
 * @param unix the {@code --nbd-unix} socket path, or null
 * @param idlePoll the {@code --nbd-idle-poll} time ({@link NbdServerConfig#idlePoll()})
 * @param tls what the {@code --nbd-tls-*} options name, or null
 * @param only the {@code --nbd-export} volumes, the only ones served with their snapshots; empty
 *     to serve every volume
 */
record NbdListeners(@Nullable InetSocketAddress tcp, @Nullable Path unix, Duration idlePoll,
    @Nullable NbdTls tls, Set<String> only) {
  NbdListeners {
    only = Set.copyOf(only);
  }

  /** Whether any NBD listener was asked for. */
  boolean any() {
    return tcp != null || unix != null;
  }

  /**
   * A server configuration with exactly these listeners; call only if {@link #any()}. With one
   * export it is the default, for clients that ask for no name.
   */
  NbdServerConfig config() {
    return NbdServerConfig.builder().bindAddress(tcp).unixSocket(unix).idlePoll(idlePoll).tls(tls)
        .defaultExport(only.size() == 1 ? only.iterator().next() : null)
        .description("Torus volume").build();
  }

  /** What the server answers for: {@code volumes}, or only the {@code --nbd-export} ones. */
  ExportResolver exports(VolumeExports volumes) {
    return only.isEmpty() ? volumes : ExportResolver.restrictedTo(only, volumes);
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
