package dev.torus.server;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.client.Torus;
import dev.torus.distributor.Distributor;
import dev.torus.distributor.Heartbeat;
import dev.torus.distributor.Membership;
import dev.torus.distributor.RingChanges;
import dev.torus.gc.GarbageCollector;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerInfo;
import dev.torus.ring.RingMember;
import dev.torus.server.http.StatusHttp;
import dev.torus.server.options.Json;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.tcp.TcpPeerTransport;
import dev.torus.volume.VolumeService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running storage node, and the composition root that builds it. Start order: metadata, data
 * dir and block store, peer server, heartbeat (and ring join), membership, distributor, volume
 * service, garbage collector, HTTP status. {@link #close()} stops them in reverse: the node
 * deregisters before its store is flushed and closed.
 */
public final class TorusServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TorusServer.class);
  static final int PROTOCOL_VERSION = 1;

  private final PeerId id;
  private final String address;
  private final MetadataService metadata;
  private final BlockStore store;
  private final VolumeService volumes;
  private final Membership membership;
  private final ScheduledExecutorService scheduler;
  private final MeterRegistry meters;
  private final @Nullable StatusHttp http;
  private final Deque<AutoCloseable> stack;

  private TorusServer(PeerId id, String address, MetadataService metadata, BlockStore store,
      VolumeService volumes, Membership membership, ScheduledExecutorService scheduler,
      MeterRegistry meters, @Nullable StatusHttp http, Deque<AutoCloseable> stack) {
    this.id = id;
    this.address = address;
    this.metadata = metadata;
    this.store = store;
    this.volumes = volumes;
    this.membership = membership;
    this.scheduler = scheduler;
    this.meters = meters;
    this.http = http;
    this.stack = stack;
  }

  /** Starts a node; on failure everything already started is stopped again. */
  public static TorusServer start(ServerConfig config) {
    Deque<AutoCloseable> stack = new ArrayDeque<>();
    try {
      ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4, Threads.daemon("torus-sched"));
      stack.push(() -> Threads.stop(scheduler));
      ExecutorService io = Executors.newFixedThreadPool(8, Threads.daemon("torus-io"));
      stack.push(() -> Threads.stop(io));
      MetadataService metadata = Torus.openMetadata(config.metadata(), scheduler);
      stack.push(metadata);
      GlobalMetadata global = join(metadata.global());

      DataDir dir = new DataDir(config.dataDir());
      PeerId id = dir.nodeId();
      BlockStore store = BlockStores.openFile(FileStoreConfig.of(dir.blocks(), global.blockSize(),
          DataSize.ofBytes(config.capacity())), io);
      stack.push(store);

      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      new JvmMemoryMetrics().bindTo(meters);
      new JvmThreadMetrics().bindTo(meters);
      Gauge.builder("torus_storage_capacity_blocks", store, s -> s.stats().capacityBlocks()).register(meters);
      Gauge.builder("torus_storage_used_blocks", store, s -> s.stats().usedBlocks()).register(meters);

      TcpPeerTransport transport = TcpPeerTransport.create(id, global.blockSize(),
          PeerTransportConfig.DEFAULT, scheduler);
      stack.push(transport);
      PeerAddress bind = PeerAddress.parse(config.peerAddress()).requireScheme(TcpPeerTransport.SCHEME);
      PeerServer server = transport.serve(new InetSocketAddress(bind.host(), bind.port()),
          PeerService.of(store));
      stack.push(server);
      String advertised = advertise(bind, server.boundAddress());

      Heartbeat heartbeat = Heartbeat.start(metadata, () -> new PeerInfo(id, advertised,
          Instant.now(), store.stats().capacityBlocks(), store.stats().usedBlocks(),
          PROTOCOL_VERSION, false), config.leaseTtl(), config.heartbeat(), scheduler, System::nanoTime);
      stack.push(heartbeat);
      if (config.autoJoin()) {
        joinRing(metadata, id, store.stats().capacityBlocks());
      }
      Membership membership = join(Membership.start(metadata));
      stack.push(membership);
      Distributor distributor = Distributor.create(config.distributor(), global.blockSize(), id,
          store, membership, transport, scheduler, meters);
      stack.push(distributor);
      VolumeService volumes = VolumeService.create(metadata, distributor, config.volumes(),
          scheduler, System::nanoTime);
      volumes.bindTo(meters);
      GarbageCollector gc = GarbageCollector.create(metadata, volumes, store, config.gc(), System::nanoTime);
      gc.bindTo(meters);
      gc.start(scheduler);
      stack.push(gc);

      StatusHttp http = null;
      if (config.http().isPresent()) {
        http = StatusHttp.start(config.http().get(), meters,
            () -> health(id, membership, store, heartbeat));
        stack.push(http);
      }
      log.info("torusd {} serving peers at {} (store {} of {}, metadata {})", id, advertised,
          DataSize.ofBytes(store.stats().usedBytes()), DataSize.ofBytes(store.stats().capacityBytes()),
          metadata.location());
      return new TorusServer(id, advertised, metadata, store, volumes, membership, scheduler,
          meters, http, stack);
    } catch (RuntimeException e) {
      closeAll(stack);
      throw e;
    }
  }

  /** Adds this node to the ring, unless it is a member already or the ring cannot take peers. */
  private static void joinRing(MetadataService metadata, PeerId id, long capacityBlocks) {
    try {
      RingChanges.addPeers(metadata.rings(), List.of(new RingMember(id, capacityBlocks)));
      log.info("joined the ring");
    } catch (TorusException e) {
      if (e.code() == ErrorCode.ALREADY_EXISTS) {
        log.info("already a ring member");
      } else if (e.code() == ErrorCode.NOT_SUPPORTED) {
        log.warn("--auto-join: {}; continuing without joining", e.getMessage());
      } else {
        throw e;
      }
    }
  }

  /** The address peers should use: the bound port, and a real interface for a wildcard host. */
  static String advertise(PeerAddress bind, InetSocketAddress bound) {
    String host = bind.host();
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      host = firstNonLoopbackIpv4().orElse("127.0.0.1");
    }
    return new PeerAddress(bind.scheme(), host, bound.getPort()).toString();
  }

  private static Optional<String> firstNonLoopbackIpv4() {
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp() || nif.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            return Optional.of(a.getHostAddress());
          }
        }
      }
    } catch (SocketException e) {
      log.warn("cannot list network interfaces: {}", e.getMessage());
    }
    return Optional.empty();
  }

  /** Healthy while the node's registry record is kept: otherwise peers and clients lose it. */
  private static StatusHttp.Health health(PeerId id, Membership membership, BlockStore store,
      Heartbeat heartbeat) {
    boolean member = membership.ring().members().stream().anyMatch(m -> m.peer().equals(id));
    var stats = store.stats();
    Optional<String> failure = heartbeat.failure();
    String json = String.format("{\"id\":\"%s\",\"ringMember\":%s,\"ringVersion\":%d,"
            + "\"capacityBytes\":%d,\"usedBytes\":%d,\"registered\":%s%s}", id, member,
        membership.ring().version(), stats.capacityBytes(), stats.usedBytes(), failure.isEmpty(),
        failure.map(f -> ",\"problem\":" + Json.quote("heartbeat failed: " + f)).orElse(""));
    return new StatusHttp.Health(failure.isEmpty(), json);
  }

  public PeerId id() {
    return id;
  }

  /** The address peers reach this node at. */
  public String address() {
    return address;
  }

  public MetadataService metadata() {
    return metadata;
  }

  public BlockStore store() {
    return store;
  }

  /** Volumes over the cluster, for frontends running inside the node. */
  public VolumeService volumes() {
    return volumes;
  }

  public Membership membership() {
    return membership;
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  /** The node's meters, served at {@code /metrics}; frontends inside the node add theirs. */
  public MeterRegistry meters() {
    return meters;
  }

  /** Where {@code /metrics} and {@code /health} are served, if anywhere. */
  public Optional<InetSocketAddress> httpAddress() {
    return Optional.ofNullable(http).map(StatusHttp::address);
  }

  /** Adds something to stop before everything the node started itself (e.g. a frontend). */
  public void stopFirst(AutoCloseable resource) {
    synchronized (stack) {
      stack.push(resource);
    }
  }

  /** Stops the node: frontends, collector, distributor, heartbeat (deregisters), store, metadata. */
  @Override
  public void close() {
    synchronized (stack) {
      closeAll(stack);
    }
    log.info("torusd {} stopped", id);
  }

  private static void closeAll(Deque<AutoCloseable> stack) {
    while (!stack.isEmpty()) {
      AutoCloseable r = stack.pop();
      try {
        r.close();
      } catch (Exception e) {
        log.warn("stopping {} failed: {}", r, e.getMessage());
      }
    }
  }

}
