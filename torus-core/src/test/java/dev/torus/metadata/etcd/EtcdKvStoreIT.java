package dev.torus.metadata.etcd;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.ErrorCode;
import dev.torus.metadata.kv.Compare;
import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.KvStoreContract;
import dev.torus.metadata.kv.Txn;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
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

  @Test
  void leaseComparesAreRefusedBecauseJetcdCannotSendThem() {
    try (KvStore s = newStore()) {
      Compare byLease = new Compare(KvStoreContract.freshPrefix() + "k", Compare.Target.LEASE,
          Compare.Op.EQUAL, 0, null);
      KvStoreContract.assertCode(ErrorCode.NOT_SUPPORTED,
          () -> join(s.txn(new Txn(List.of(byLease), List.of(), List.of()))));
    }
  }
}
