package dev.torus.cli;

import dev.torus.client.TorusClient;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.volume.VolumeCatalog;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Sessions over one in-memory metadata service shared by every command of a test. */
final class MemorySessions implements ClientFactory, AutoCloseable {
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "cli-test");
    t.setDaemon(true);
    return t;
  });
  final MetadataService metadata = KvMetadata.inMemory(Clock.systemUTC(), scheduler);

  @Override
  public CliSession open(ConnectionOptions options, DataPathOptions dataPath, MeterRegistry meters) {
    VolumeCatalog catalog = new VolumeCatalog(metadata, scheduler, System::nanoTime,
        Duration.ofSeconds(10), "cli-test");
    return new CliSession() {
      @Override
      public MetadataService metadata() {
        return metadata;
      }

      @Override
      public VolumeCatalog catalog() {
        return catalog;
      }

      @Override
      public TorusClient cluster() {
        throw new UnsupportedOperationException("these tests have no storage nodes");
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {
    metadata.close();
    scheduler.shutdownNow();
  }
}
