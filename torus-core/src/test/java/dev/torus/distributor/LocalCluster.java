package dev.torus.distributor;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.PeerId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.PeerInfo;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.local.LocalTransport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * Storage nodes inside one process over the {@link LocalTransport}, sharing in-memory metadata:
 * each has a memory store served to its peers and registered with a long lease, under a mod ring.
 */
public final class LocalCluster implements AutoCloseable {
  public static final int BLOCK = 4096;

  public final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "local-cluster");
    t.setDaemon(true);
    return t;
  });
  public final MetadataService metadata = KvMetadata.inMemory(Clock.systemUTC(), scheduler);
  public final LocalTransport transport = LocalTransport.create(PeerTransportConfig.DEFAULT.toBuilder()
      .readTimeout(Duration.ofMillis(500)).writeTimeout(Duration.ofMillis(500)).build());
  public final List<PeerId> ids = new ArrayList<>();
  public final List<BlockStore> stores = new ArrayList<>();
  private final List<PeerServer> servers = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  public LocalCluster(int nodes, int replication) {
    join(metadata.initialize(new GlobalMetadata(BLOCK, GlobalMetadata.CRC32C), Rings.empty(1)));
    long lease = join(metadata.leases().grant(Duration.ofMinutes(10)));
    List<RingMember> members = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      PeerId id = new PeerId("node-" + i);
      BlockStore store = BlockStores.inMemory(BLOCK, 100_000);
      PeerServer server = transport.serve(new InetSocketAddress("127.0.0.1", 0), PeerService.of(store));
      String address = PeerAddress.of(LocalTransport.SCHEME, server.boundAddress()).toString();
      join(metadata.peers().register(new PeerInfo(id, address, Instant.now(), 100_000, 0, 1, false), lease));
      ids.add(id);
      stores.add(store);
      servers.add(server);
      members.add(new RingMember(id, 100_000));
    }
    Ring ring = Rings.mod(2, replication, members);
    join(metadata.rings().compareAndSet(ring, join(metadata.rings().current()).revision()));
  }

  /** A distributor as node {@code i} (or a client for {@code i < 0}). */
  public Distributor distributor(int i, DistributorConfig config) {
    return distributor(i, config, i < 0 ? null : stores.get(i));
  }

  /** A distributor as node {@code i} over {@code local}, its store or one in front of it. */
  public Distributor distributor(int i, DistributorConfig config, @Nullable BlockStore local) {
    Membership membership = join(Membership.start(metadata));
    closeables.add(membership);
    Distributor d = Distributor.create(config, BLOCK, i < 0 ? null : ids.get(i), local,
        membership, transport, scheduler, new SimpleMeterRegistry());
    closeables.add(d);
    return d;
  }

  /** How many nodes hold {@code ref}. */
  public long copies(dev.torus.BlockRef ref) {
    return stores.stream().filter(s -> join(s.hasBlock(ref))).count();
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    servers.forEach(PeerServer::close);
    transport.close();
    stores.forEach(BlockStore::close);
    metadata.close();
    scheduler.shutdownNow();
  }
}
