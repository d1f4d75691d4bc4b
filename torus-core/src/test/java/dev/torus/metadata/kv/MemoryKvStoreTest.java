package dev.torus.metadata.kv;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ForkJoinPool;

final class MemoryKvStoreTest implements KvStoreContract {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @Override
  public KvStore newStore() {
    return new MemoryKvStore(clock::millis, ForkJoinPool.commonPool());
  }

  @Override
  public void elapse(Duration d) {
    clock.advance(d);
  }
}
