package dev.torus.cli.blk;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.PeerId;
import dev.torus.cli.CliSession;
import dev.torus.cli.TorusBlk;
import dev.torus.metadata.PeerInfo;
import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.nbd.NbdTls;
import dev.torus.nbd.VolumeExports;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.server.DurationConverter;
import dev.torus.server.http.StatusHttp;
import dev.torus.server.options.HostPortConverter;
import dev.torus.server.options.Json;
import dev.torus.server.options.NbdTlsOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code torusblk nbdserve}: serves every volume over NBD until stopped. */
@Command(name = "nbdserve",
    description = "Serve every volume over NBD (export name = volume name) until SIGINT or SIGTERM.")
public final class NbdServeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-l", "--listen"}, defaultValue = "127.0.0.1:10809", converter = HostPortConverter.class,
      paramLabel = "HOST:PORT", description = "TCP address to serve on (default: ${DEFAULT-VALUE})")
  InetSocketAddress listen;

  @Option(names = "--unix", paramLabel = "PATH", description = "also serve on this Unix socket")
  @Nullable Path unix;

  @Option(names = "--idle-poll", defaultValue = "50us", converter = DurationConverter.class,
      paramLabel = "TIME", description = "how long an event loop out of work polls for the next request"
          + " before it sleeps: saves a wake-up per request for clients at queue depth 1, costs CPU"
          + " while they are busy; 0us to sleep at once, at most 10ms (default: ${DEFAULT-VALUE})")
  Duration idlePoll;

  @Option(names = "--read-only", description = "refuse writes; volumes are opened without their write lock")
  boolean readOnly;

  @Option(names = "--export", paramLabel = "VOLUME",
      description = "serve only this volume and its snapshots; repeat for more (default: every"
          + " volume). With one, clients that ask for no name get it")
  List<String> exportOnly = new ArrayList<>();

  @Mixin
  NbdTlsOptions tlsOptions = new NbdTlsOptions();

  @Option(names = "--http", converter = HostPortConverter.class, paramLabel = "HOST:PORT",
      description = "serve /metrics (Prometheus) and /health over HTTP here, e.g. 127.0.0.1:4322"
          + " (off unless given)")
  @Nullable InetSocketAddress http;

  @Override
  public Integer call() throws InterruptedException {
    if (idlePoll.compareTo(NbdServerConfig.MAX_IDLE_POLL) > 0) {
      throw new ParameterException(spec.commandLine(), "--idle-poll must be at most 10ms");
    }
    NbdTls tls;
    try {
      tls = tlsOptions.tls("--tls-");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    // The JVM waits for shutdown hooks, not for this thread: the hook waits until it has closed
    // the server and committed every volume.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "nbdserve-shutdown"));
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (CliSession s = ((TorusBlk) spec.root().userObject()).open(meters);
        VolumeExports volumes = ExportResolver.ofVolumes(s.cluster().volumes(), readOnly);
        NbdServer server = NbdServer.start(NbdServerConfig.builder().bindAddress(listen)
            .unixSocket(unix).idlePoll(idlePoll).readOnly(readOnly).tls(tls)
            .defaultExport(exportOnly.size() == 1 ? exportOnly.get(0) : null)
            .description("Torus volume")
            .build(), exportOnly.isEmpty()
                ? volumes
                : ExportResolver.restrictedTo(Set.copyOf(exportOnly), volumes));
        StatusHttp status = http == null ? null : StatusHttp.start(http, meters, () -> health(s))) {
      server.bindTo(meters);
      String problem = storageProblem(s);
      if (problem != null) { // before the address, which tells scripts it is serving
        spec.commandLine().getErr().println("torusblk: warning: " + problem);
        spec.commandLine().getErr().flush();
      }
      spec.commandLine().getOut().println("Serving "
          + (exportOnly.isEmpty() ? "volumes" : String.join(", ", exportOnly))
          + " over NBD at nbd://"
          + server.boundAddress().getHostString() + ":" + server.boundAddress().getPort()
          + (unix == null ? "" : " and " + unix) + (readOnly ? " (read-only)" : "")
          + (tls == null ? "" : " (" + tls.mode() + ")")
          + (status == null ? "" : ", HTTP at http://" + status.address().getHostString() + ":"
              + status.address().getPort()));
      spec.commandLine().getOut().flush();
      stop.await();
    } finally {
      stopped.countDown();
    }
    return 0;
  }

  /**
   * Unhealthy while no storage node can take the volumes' blocks, or the metadata cannot say.
   */
  private static StatusHttp.Health health(CliSession s) {
    String problem;
    try {
      problem = storageProblem(s);
    } catch (RuntimeException e) {
      problem = "cannot read the ring and the storage nodes from the metadata: " + e.getMessage();
    }
    return new StatusHttp.Health(problem == null, problem == null ? "{\"storageNodes\":\"ok\"}"
        : "{\"storageNodes\":\"unavailable\",\"problem\":" + Json.quote(problem) + "}");
  }

  /**
   * Why no storage node can take the volumes' blocks, or null if one can. The server starts
   * anyway, since nodes may come up later, but until one does every commit and every read of a
   * written block fails, and a client that never flushes would learn it only from the log: so
   * nbdserve warns at start, and {@code /health} fails.
   */
  private static @Nullable String storageProblem(CliSession s) {
    Ring ring = join(s.metadata().rings().current()).value();
    Set<PeerId> registered =
        join(s.metadata().peers().list()).stream().map(PeerInfo::id).collect(Collectors.toSet());
    int members = ring.members().size();
    if (members == 0) {
      return "the ring has no storage nodes, so commits and reads of written blocks fail until"
          + " one joins: start torusd with --auto-join, or add a running one with"
          + " 'torusctl peer add'";
    }
    if (ring.members().stream().map(RingMember::peer).noneMatch(registered::contains)) {
      return "no storage node of the ring is running (0 of " + members + " registered), so"
          + " commits and reads of written blocks fail until one is: start torusd, and see"
          + " 'torusctl list-peers'";
    }
    return null;
  }
}
