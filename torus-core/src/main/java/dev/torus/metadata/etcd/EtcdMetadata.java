package dev.torus.metadata.etcd;

import dev.torus.metadata.MetadataService;
import dev.torus.metadata.kv.KvMetadata;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Connects the {@link MetadataService} to an etcd v3 cluster. The key schema, encoding and
 * transactions are those of every Torus metadata store ({@code docs/etcd-keys.md}); keys live
 * under {@link EtcdConfig#rootPrefix()}.
 *
 * <p>Failure: every call has the config's deadline. An unreachable etcd fails calls with {@code
 * UNAVAILABLE} (or {@code TIMEOUT} when it accepts connections but does not answer) within it,
 * with a message that names the endpoints; a cluster without {@code torusctl init} fails with
 * {@code NOT_INITIALIZED}; a value under the prefix that Torus did not write fails with {@code
 * CORRUPTED} naming the key. Watches (the ring, the peers) carry on across etcd restarts and
 * compactions.
 *
 * <p>Threads: the service is thread-safe. jetcd runs its own network threads (gRPC, Vert.x, a
 * callback pool), which closing the service releases; futures may complete on them, so never block
 * inside a continuation. Deadlines and watch callbacks run on {@code scheduler}.
 */
public final class EtcdMetadata {
  private EtcdMetadata() {}

  /**
   * A service on the cluster that {@code config} names. Does not contact etcd yet, so it never
   * blocks; {@code clock} timestamps records, {@code scheduler} (owned by the caller, shut down
   * after the service is closed) times calls and runs watch callbacks.
   */
  public static MetadataService connect(
      EtcdConfig config, Clock clock, ScheduledExecutorService scheduler) {
    return KvMetadata.over(EtcdKvStore.connect(config, scheduler), config.rootPrefix(), clock);
  }
}
