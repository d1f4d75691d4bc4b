package dev.torus.metadata.etcd;

import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.KvStoreContract;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

final class EtcdKvStoreIT implements KvStoreContract {
  @RegisterExtension static final EtcdProcessExtension ETCD = new EtcdProcessExtension();

  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Override
  public KvStore newStore() {
    return EtcdKvStore.connect(EtcdConfig.of(ETCD.etcd().hostPort()), scheduler);
  }
}
