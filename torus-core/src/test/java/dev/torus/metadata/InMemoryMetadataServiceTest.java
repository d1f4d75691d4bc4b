package dev.torus.metadata;

import dev.torus.metadata.kv.KvMetadata;
import java.time.Clock;
import java.util.concurrent.ForkJoinPool;

final class InMemoryMetadataServiceTest implements MetadataServiceContract {
  @Override
  public MetadataService newService() {
    return KvMetadata.inMemory(Clock.systemUTC(), ForkJoinPool.commonPool());
  }
}
