package dev.torus.server;

import dev.torus.distributor.DistributorConfig;
import dev.torus.gc.GcConfig;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.nbd.NbdTls;
import dev.torus.nbd.VolumeExports;
import dev.torus.server.options.CommandLines;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.server.options.ExitCodes;
import dev.torus.server.options.HostPortConverter;
import dev.torus.server.options.NbdTlsOptions;
import dev.torus.server.options.Version;
import dev.torus.transport.PeerAddress;
import dev.torus.volume.VolumeConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/** {@code torusd}: runs a storage node until SIGTERM or SIGINT, then stops it cleanly. */
@Command(name = "torusd", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Run a Torus storage node: store blocks on this machine and serve them to the cluster.")
public final class TorusDaemon implements Callable<Integer> {
  @Mixin
  ConnectionOptions connection;

  @Mixin
  DataPathOptions dataPath;

  @Spec
  CommandSpec spec;

  @Option(names = "--data-dir", defaultValue = "torus-data", paramLabel = "DIR",
      description = "where the node keeps its id and blocks (default: ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(names = "--size", defaultValue = "1GiB", paramLabel = "SIZE|N%",
      description = "block storage to use: a size like 100GiB, or a percentage of the data dir's file system (default: ${DEFAULT-VALUE})")
  String size;

  @Option(names = "--peer-address", required = true, paramLabel = "tcp://HOST:PORT",
      description = "where to serve peers; 0.0.0.0 advertises the first non-loopback address")
  String peerAddress;

  @Option(names = "--auto-join", description = "add this node to the ring at start")
  boolean autoJoin;

  @Option(names = "--host", paramLabel = "HOST",
      description = "serve /metrics and /health over HTTP on this host (off unless given)")
  @Nullable String httpHost;

  @Option(names = "--port", defaultValue = "4321", description = "HTTP port (default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--nbd", converter = HostPortConverter.class, paramLabel = "HOST:PORT",
      description = "also serve every volume (or the --nbd-export ones) over NBD here (export name ="
          + " volume name), e.g. 127.0.0.1:10809")
  @Nullable InetSocketAddress nbd;

  @Option(names = "--nbd-unix", paramLabel = "PATH",
      description = "also serve the volumes over NBD on this Unix socket (alone: no TCP port)")
  @Nullable Path nbdUnix;

  @Option(names = "--nbd-export", paramLabel = "VOLUME",
      description = "serve only this volume and its snapshots over NBD; repeat for more (default:"
          + " every volume). With one, clients that ask for no name get it")
  List<String> nbdExports = new ArrayList<>();

  @Option(names = "--nbd-idle-poll", defaultValue = "50us", converter = DurationConverter.class,
      paramLabel = "TIME", description = "how long an NBD event loop out of work polls for the next"
          + " request before it sleeps: saves a wake-up per request for clients at queue depth 1,"
          + " costs CPU while they are busy; 0us to sleep at once, at most 10ms (default: ${DEFAULT-VALUE})")
  Duration nbdIdlePoll;

  @Mixin
  NbdTlsOptions nbdTlsOptions = new NbdTlsOptions();

  @Option(names = "--lease-ttl", defaultValue = "10s", converter = DurationConverter.class,
      description = "how long locks and the node's record outlive it; at least 2s, etcd's minimum"
          + " (default: ${DEFAULT-VALUE})")
  Duration leaseTtl;

  public static void main(String[] args) {
    // torusctl's quieter logback.xml shares the classpath with torusd in some launches
    System.setProperty("logback.configurationFile",
        System.getProperty("logback.configurationFile", "torusd-logback.xml"));
    System.exit(commandLine().execute(args));
  }

  /** The configured command line. */
  public static CommandLine commandLine() {
    TorusDaemon root = new TorusDaemon();
    return CommandLines.configure(new CommandLine(root), "torusd", () -> root.connection.debug());
  }

  /** The node's configuration from the parsed flags; fails with a clear message on bad values. */
  ServerConfig config() {
    try {
      PeerAddress.parse(peerAddress);
    } catch (RuntimeException e) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "invalid --peer-address '" + peerAddress + "': " + e.getMessage());
    }
    if (leaseTtl.compareTo(LeaseKeeper.MIN_TTL) < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--lease-ttl must be at least 2s, etcd's minimum lease TTL");
    }
    if (nbdIdlePoll.compareTo(NbdServerConfig.MAX_IDLE_POLL) > 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--nbd-idle-poll must be at most 10ms");
    }
    long capacity = new DataDir(dataDir).capacity(size);
    DistributorConfig distributor = dataPath.distributor();
    Optional<InetSocketAddress> http = Optional.ofNullable(httpHost)
        .map(h -> new InetSocketAddress(h, httpPort));
    return new ServerConfig(dataDir, capacity, peerAddress, autoJoin, connection.location(),
        distributor, dataPath.volumes(VolumeConfig.DEFAULT.withLeaseTtl(leaseTtl)
            .withOwner(VolumeConfig.ownerFor("torusd"))),
        GcConfig.DEFAULT, http, Duration.ofSeconds(5), leaseTtl);
  }

  private @Nullable NbdTls nbdTls() {
    try {
      return nbdTlsOptions.tls("--nbd-tls-");
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    ServerConfig config = config();
    NbdListeners listeners = new NbdListeners(nbd, nbdUnix, nbdIdlePoll, nbdTls(),
        Set.copyOf(nbdExports));
    if (!listeners.any() && (!nbdExports.isEmpty() || listeners.tls() != null)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          (nbdExports.isEmpty() ? "--nbd-tls-*" : "--nbd-export")
              + " needs an NBD listener: --nbd HOST:PORT or --nbd-unix PATH");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    TorusServer server = TorusServer.start(config);
    String nbdAt = "";
    if (listeners.any()) {
      try {
        VolumeExports exports = ExportResolver.ofVolumes(server.volumes(), false);
        server.stopFirst(exports); // second: waits for the last commits
        NbdServer nbdServer = NbdServer.start(listeners.config(), listeners.exports(exports));
        server.stopFirst(nbdServer); // first: ends every connection
        nbdServer.bindTo(server.meters());
        nbdAt = ", NBD at " + listeners.describe(nbdServer);
      } catch (RuntimeException e) {
        server.close();
        throw e;
      }
    }
    Thread hook = new Thread(() -> {
      spec.commandLine().getErr().println("torusd: stopping");
      server.close();
      stopped.countDown();
    }, "torusd-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    spec.commandLine().getOut().println("torusd " + server.id() + " serving peers at "
        + server.address() + server.httpAddress()
        .map(a -> ", HTTP at http://" + a.getHostString() + ":" + a.getPort()).orElse("") + nbdAt);
    spec.commandLine().getOut().flush();
    stopped.await();
    return ExitCodes.OK;
  }
}
