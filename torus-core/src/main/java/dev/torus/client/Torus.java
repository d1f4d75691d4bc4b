package dev.torus.client;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.distributor.Distributor;
import dev.torus.distributor.DistributorConfig;
import dev.torus.distributor.Membership;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.metadata.etcd.EtcdMetadata;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.tcp.TcpPeerTransport;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Opens Torus from a Java program.
 *
 * <pre>{@code
 * try (TorusClient torus = Torus.local(Path.of("/var/lib/myapp/torus"), DataSize.ofGibibytes(20))) {
 *   torus.catalog().create("db", DataSize.ofGibibytes(10).bytes()).join();
 *   try (BlockVolume v = torus.volumes().openWritable("db").join()) {
 *     v.write(0, Unpooled.wrappedBuffer(bytes)).join();
 *     v.flush().join(); // durable
 *   }
 * }
 * }</pre>
 *
 * {@link #local} keeps everything in one directory of this host (embedded metadata, durable file
 * store, no network); {@link #connect} joins a cluster of {@code torusd} nodes as a client that
 * stores nothing itself.
 */
public final class Torus {
  private Torus() {}

  /**
   * A single-process Torus in {@code dir}: metadata in {@code dir/metadata.db}, blocks in {@code
   * dir/blocks} up to {@code capacity}. Initialises the cluster (32 KiB blocks, {@link
   * GlobalMetadata#DEFAULT_BLOCK_SIZE}) on first use.
   */
  public static TorusClient local(Path dir, DataSize capacity) {
    return local(dir, capacity, VolumeConfig.DEFAULT);
  }

  /** As {@link #local(Path, DataSize)} with volume settings. */
  public static TorusClient local(Path dir, DataSize capacity, VolumeConfig volumeConfig) {
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      ScheduledExecutorService scheduler = scheduler(opened);
      ExecutorService io = Executors.newFixedThreadPool(4, Threads.daemon("torus-io"));
      opened.push(() -> Threads.stop(io));
      MetadataService metadata = EmbeddedMetadata.open(dir.resolve("metadata.db"), Clock.systemUTC(), scheduler);
      opened.push(metadata);
      GlobalMetadata global = initialised(metadata, GlobalMetadata.defaultBlockSize());
      BlockStore store = BlockStores.openFile(
          FileStoreConfig.of(dir.resolve("blocks"), global.blockSize(), capacity), io);
      opened.push(store);
      VolumeService volumes = VolumeService.create(metadata, store, volumeConfig, scheduler, System::nanoTime);
      return new TorusClient(metadata, store, volumes, opened);
    } catch (RuntimeException e) {
      closeAll(opened);
      throw e;
    }
  }

  /**
   * A client of a running cluster: reads and writes go to the {@code torusd} nodes the ring names.
   * Fails with {@code NOT_INITIALIZED} if the cluster was never initialised.
   */
  public static TorusClient connect(MetadataLocation location, DistributorConfig distributorConfig,
      VolumeConfig volumeConfig) {
    return connect(location, distributorConfig, volumeConfig, new SimpleMeterRegistry());
  }

  /**
   * As {@link #connect(MetadataLocation, DistributorConfig, VolumeConfig)}, reporting the client's
   * meters (peer requests, volume write-back problems) to {@code meters}.
   */
  public static TorusClient connect(MetadataLocation location, DistributorConfig distributorConfig,
      VolumeConfig volumeConfig, MeterRegistry meters) {
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      ScheduledExecutorService scheduler = scheduler(opened);
      MetadataService metadata = openMetadata(location, scheduler);
      opened.push(metadata);
      GlobalMetadata global = join(metadata.global());
      TcpPeerTransport transport = TcpPeerTransport.create(PeerId.random(), global.blockSize(),
          PeerTransportConfig.DEFAULT, scheduler);
      opened.push(transport);
      Membership membership = join(Membership.start(metadata));
      opened.push(membership);
      Distributor distributor = Distributor.create(distributorConfig, global.blockSize(), null, null,
          membership, transport, scheduler, meters);
      opened.push(distributor);
      VolumeService volumes = VolumeService.create(metadata, distributor, volumeConfig, scheduler, System::nanoTime);
      volumes.bindTo(meters);
      return new TorusClient(metadata, distributor, volumes, opened);
    } catch (RuntimeException e) {
      closeAll(opened);
      throw e;
    }
  }

  /** Opens the metadata service a location names. */
  public static MetadataService openMetadata(MetadataLocation location, ScheduledExecutorService scheduler) {
    if (location instanceof MetadataLocation.Etcd etcd) {
      return EtcdMetadata.connect(etcd.config(), Clock.systemUTC(), scheduler);
    }
    return EmbeddedMetadata.open(((MetadataLocation.Embedded) location).file(), Clock.systemUTC(), scheduler);
  }

  /** The global settings, initialising a fresh single-host cluster with a single ring first. */
  private static GlobalMetadata initialised(MetadataService metadata, int blockSize) {
    try {
      return join(metadata.global());
    } catch (TorusException e) {
      if (e.code() != ErrorCode.NOT_INITIALIZED) {
        throw e;
      }
    }
    try {
      join(metadata.initialize(new GlobalMetadata(blockSize, GlobalMetadata.CRC32C),
          Rings.single(1, new RingMember(new PeerId("local"), 0))));
    } catch (TorusException e) {
      if (e.code() != ErrorCode.ALREADY_EXISTS) { // another process won the race: fine
        throw e;
      }
    }
    return join(metadata.global());
  }

  private static ScheduledExecutorService scheduler(Deque<AutoCloseable> opened) {
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, Threads.daemon("torus-client"));
    opened.push(() -> Threads.stop(scheduler));
    return scheduler;
  }

  /** Closes what a failed open had opened, newest first. */
  private static void closeAll(Deque<AutoCloseable> opened) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception suppressed) {
        // the original failure is what the caller needs to see
      }
    }
  }
}
