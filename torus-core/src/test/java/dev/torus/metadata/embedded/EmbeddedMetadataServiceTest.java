package dev.torus.metadata.embedded;

import dev.torus.metadata.MetadataService;
import dev.torus.metadata.MetadataServiceContract;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

final class EmbeddedMetadataServiceTest implements MetadataServiceContract {
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
  @TempDir Path dir;

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Override
  public MetadataService newService() {
    return EmbeddedMetadata.open(dir.resolve("metadata.db"), Clock.systemUTC(), scheduler);
  }
}
