package dev.torus.metadata.kv;

import dev.torus.metadata.MetadataService;
import java.time.Clock;
import java.util.concurrent.Executor;

/** Builds a {@link MetadataService} over a {@link KvStore}. */
public final class KvMetadata {
  /** The default root prefix of every Torus key. */
  public static final String DEFAULT_ROOT = "/torus";

  private KvMetadata() {}

  /**
   * Metadata over {@code store} under {@code rootPrefix} (e.g. {@value #DEFAULT_ROOT}). The
   * service owns the store and closes it. {@code clock} timestamps records.
   */
  public static MetadataService over(KvStore store, String rootPrefix, Clock clock) {
    return new KvMetadataService(store, new MetadataKeys(rootPrefix), clock);
  }

  /**
   * An in-memory store: everything is lost with the process. For tests and single-process tools;
   * watch callbacks run on {@code executor}.
   */
  public static KvStore inMemoryStore(Clock clock, Executor executor) {
    return new MemoryKvStore(clock::millis, executor);
  }

  /** Metadata in memory, under the default root. */
  public static MetadataService inMemory(Clock clock, Executor executor) {
    return over(inMemoryStore(clock, executor), DEFAULT_ROOT, clock);
  }
}
