package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.PeerId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.ring.RingMember;
import dev.torus.ring.Rings;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A volume service over real parts chosen by the test (in-memory by default), initialised and
 * ready; closing it closes everything it made.
 */
public class VolumeFixture implements AutoCloseable {
  public final MetadataService metadata;
  public final BlockStore store;
  public final ScheduledExecutorService scheduler;
  public final VolumeService volumes;

  public VolumeFixture(MetadataService metadata, BlockStore store, VolumeConfig config,
      ScheduledExecutorService scheduler) {
    this.metadata = metadata;
    this.store = store;
    this.scheduler = scheduler;
    this.volumes = VolumeService.create(metadata, store, config, scheduler, System::nanoTime);
  }

  /** In-memory metadata and store with {@code blockSize}-byte blocks, initialised. */
  public static VolumeFixture inMemory(int blockSize, VolumeConfig config) {
    return inMemoryMetadata(blockSize, config, BlockStores.inMemory(blockSize, 1 << 20));
  }

  /** In-memory metadata over {@code store}, initialised. */
  public static VolumeFixture inMemoryMetadata(int blockSize, VolumeConfig config,
      BlockStore store) {
    return build(blockSize, config, s -> KvMetadata.inMemory(Clock.systemUTC(), s), store);
  }

  /** Metadata from {@code metadata} (given the scheduler) over {@code store}, initialised. */
  public static VolumeFixture build(int blockSize, VolumeConfig config,
      Function<ScheduledExecutorService, MetadataService> metadata, BlockStore store) {
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "volume-test");
      t.setDaemon(true);
      return t;
    });
    MetadataService m = metadata.apply(scheduler);
    join(m.initialize(new GlobalMetadata(blockSize, GlobalMetadata.CRC32C),
        Rings.single(1, new RingMember(new PeerId("local"), store.stats().capacityBlocks()))));
    return new VolumeFixture(m, store, config, scheduler);
  }

  @Override
  public void close() throws InterruptedException {
    metadata.close();
    store.close();
    scheduler.shutdownNow();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
  }
}
