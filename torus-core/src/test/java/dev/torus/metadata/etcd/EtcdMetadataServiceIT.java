package dev.torus.metadata.etcd;

import dev.torus.metadata.MetadataService;
import dev.torus.metadata.MetadataServiceContract;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The metadata contract on a real etcd; each test has its own root prefix, so its own cluster. */
final class EtcdMetadataServiceIT implements MetadataServiceContract {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();

  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Override
  public MetadataService newService() {
    EtcdConfig config = EtcdConfig.of(ETCD.etcd().hostPort())
        .withRootPrefix("/torus-" + UUID.randomUUID());
    return EtcdMetadata.connect(config, Clock.systemUTC(), scheduler);
  }
}
