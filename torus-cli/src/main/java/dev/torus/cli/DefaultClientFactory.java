package dev.torus.cli;

import dev.torus.client.MetadataLocation;
import dev.torus.client.Torus;
import dev.torus.client.TorusClient;
import dev.torus.internal.concurrent.Threads;
import dev.torus.metadata.MetadataService;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import dev.torus.volume.VolumeCatalog;
import dev.torus.volume.VolumeConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * Opens the metadata service the connection options name: etcd, or the embedded store. Locks its
 * sessions take name the program, so that an operator can tell a torusblk from a torusctl.
 */
final class DefaultClientFactory implements ClientFactory {
  private final VolumeConfig volumes;

  /** Sessions for {@code program} ({@code torusctl}, {@code torusblk}). */
  DefaultClientFactory(String program) {
    this.volumes = VolumeConfig.DEFAULT.withOwner(VolumeConfig.ownerFor(program));
  }

  /** The owner recorded in the locks this factory's sessions take: {@code program@host:pid}. */
  String owner() {
    return volumes.owner();
  }

  @Override
  public CliSession open(ConnectionOptions options, DataPathOptions dataPath, MeterRegistry meters) {
    MetadataLocation location = options.location();
    ScheduledExecutorService scheduler =
        Executors.newScheduledThreadPool(1, Threads.daemon("torusctl"));
    MetadataService metadata;
    try {
      metadata = Torus.openMetadata(location, scheduler);
    } catch (RuntimeException e) {
      scheduler.shutdownNow();
      throw e;
    }
    VolumeCatalog catalog = new VolumeCatalog(metadata, scheduler, System::nanoTime,
        volumes.leaseTtl(), volumes.owner());
    return new CliSession() {
      private @Nullable TorusClient cluster;

      @Override
      public MetadataService metadata() {
        return metadata;
      }

      @Override
      public VolumeCatalog catalog() {
        return catalog;
      }

      @Override
      public synchronized TorusClient cluster() {
        if (cluster == null) {
          cluster = Torus.connect(location, dataPath.distributor(), dataPath.volumes(volumes),
              meters);
        }
        return cluster;
      }

      @Override
      public synchronized void close() {
        if (cluster != null) {
          cluster.close();
        }
        metadata.close();
        scheduler.shutdownNow();
      }
    };
  }
}
