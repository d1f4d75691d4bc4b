package dev.torus.metadata.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.kv.Compare;
import dev.torus.metadata.kv.KeyValue;
import dev.torus.metadata.kv.KvOp;
import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.Range;
import dev.torus.metadata.kv.Txn;
import dev.torus.metadata.kv.TxnResult;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/** A {@link KvStore} on an etcd v3 cluster, through jetcd. */
final class EtcdKvStore implements KvStore {
  /*
   * Threads: jetcd's Client owns threads (a cached pool, a Vert.x event loop, gRPC's Netty loops);
   * a gRPC client cannot work without them, so this is the one class in torus-core that has
   * threads it was not given. close() releases them. Nothing here blocks them: continuations only
   * map responses, and watch events go to a SerialExecutor on the injected scheduler before any
   * caller code runs.
   *
   * Deadlines: every unary call carries a gRPC deadline (DeadlineInterceptor), and every future is
   * also failed by the scheduler after callTimeout, because jetcd retries some calls internally
   * and its lease keep-alive is a stream that no deadline covers. A transaction that times out may
   * or may not have been applied; it fails with TIMEOUT and is never retried here (the compares of
   * the callers make a retry detectable). Calls do not wait for a connection (waitForReady off):
   * while etcd is down they fail at once with UNAVAILABLE instead of queueing.
   *
   * Mapping: a Txn is one etcd Txn with the same compares and ops. Prefixes end with '/', and
   * GetPrefix/DeletePrefix use exactly [prefix, prefix with '/' replaced by '0'), so deleting
   * volumes/02/ never touches volumes/020/. Keys are UTF-8 on the wire. Errors map through
   * EtcdErrors.
   */
  private static final int MAX_RESPONSE_BYTES = 64 << 20;
  /**
   * jetcd retries reads and other safe calls on UNAVAILABLE; its default delays (500 ms doubling)
   * would turn a refused connection into a TIMEOUT, so they are shortened to fail as UNAVAILABLE
   * well within the call timeout.
   */
  private static final long RETRY_DELAY_MILLIS = 100;

  private final EtcdConfig config;
  private final Client client;
  private final ScheduledExecutorService scheduler;
  private final EtcdErrors errors;
  private final Set<EtcdWatch> watches = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private EtcdKvStore(EtcdConfig config, Client client, ScheduledExecutorService scheduler) {
    this.config = config;
    this.client = client;
    this.scheduler = scheduler;
    this.errors = new EtcdErrors(config, () -> closed);
  }

  /**
   * A store on the cluster that {@code config} names. Does not contact etcd: an unreachable
   * cluster shows on the first call, as UNAVAILABLE within the call timeout.
   */
  static EtcdKvStore connect(EtcdConfig config, ScheduledExecutorService scheduler) {
    ClientBuilder b = Client.builder()
        .endpoints(config.endpoints().toArray(URI[]::new))
        .connectTimeout(config.connectTimeout())
        .waitForReady(false)
        .retryDelay(RETRY_DELAY_MILLIS)
        .retryMaxDelay(4 * RETRY_DELAY_MILLIS)
        .retryMaxAttempts(2)
        .retryMaxDuration(config.callTimeout())
        .maxInboundMessageSize(MAX_RESPONSE_BYTES)
        .interceptor(new DeadlineInterceptor(config.callTimeout()));
    EtcdConfig.Tls tls = config.tls();
    try {
      if (tls != null) {
        b.sslContext(ssl -> ssl.trustManager(tls.caFile().toFile())
            .keyManager(tls.certFile().toFile(), tls.keyFile().toFile()));
      } else if (config.endpoints().get(0).getScheme().equals("https")) {
        b.sslContext(ssl -> { }); // the JDK's trusted CAs
      }
    } catch (SSLException | IllegalArgumentException e) {
      throw TorusExceptions.invalid("cannot set up TLS for etcd at " + config.describeEndpoints()
          + ": " + e.getMessage() + "; check the certificate, key and CA files");
    }
    return new EtcdKvStore(config, b.build(), scheduler);
  }

  @Override
  public String location() {
    return "etcd " + config.describeEndpoints();
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key) {
    return call("get " + key, false, () -> client.getKVClient().get(bytes(key)))
        .thenApply(r -> r.getKvs().stream().findFirst().map(EtcdKvStore::keyValue));
  }

  @Override
  public CompletableFuture<Range> range(String prefix) {
    if (!prefix.endsWith("/")) {
      return CompletableFuture.failedFuture(
          TorusExceptions.invalid("prefix must end with '/': " + prefix));
    }
    return call("range " + prefix, false,
        () -> client.getKVClient().get(bytes(prefix), prefixGet(prefix)))
        .thenApply(r -> new Range(r.getHeader().getRevision(),
            r.getKvs().stream().map(EtcdKvStore::keyValue).toList()));
  }

  @Override
  public CompletableFuture<TxnResult> txn(Txn txn) {
    Cmp[] cmps;
    try {
      cmps = txn.compares().stream().map(EtcdKvStore::cmp).toArray(Cmp[]::new);
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
    Op[] then = ops(txn.onSuccess());
    Op[] otherwise = ops(txn.onFailure());
    return call("transaction", txn.mayWrite(), () -> client.getKVClient().txn().If(cmps).Then(then)
        .Else(otherwise).commit())
        .thenApply(r -> new TxnResult(r.isSucceeded(), r.getHeader().getRevision(),
            r.getGetResponses().stream()
                .map(g -> g.getKvs().stream().map(EtcdKvStore::keyValue).toList())
                .toList()));
  }

  @Override
  public CompletableFuture<Long> grantLease(Duration ttl) {
    if (ttl.toMillis() <= 0) {
      return CompletableFuture.failedFuture(
          TorusExceptions.invalid("lease TTL must be > 0: " + ttl));
    }
    long seconds = (ttl.toMillis() + 999) / 1000; // etcd counts whole seconds: round up, never down
    return call("grant a lease", true, () -> client.getLeaseClient().grant(seconds))
        .thenApply(r -> r.getID());
  }

  @Override
  public CompletableFuture<Duration> keepAlive(long leaseId) {
    return call("renew lease " + Long.toHexString(leaseId), false,
        () -> client.getLeaseClient().keepAliveOnce(leaseId))
        .thenApply(r -> {
          if (r.getTTL() <= 0) { // etcd answers an unknown lease with TTL 0
            throw TorusExceptions.notFound("lease " + Long.toHexString(leaseId));
          }
          return Duration.ofSeconds(r.getTTL());
        });
  }

  @Override
  public CompletableFuture<Void> revokeLease(long leaseId) {
    return call("revoke lease " + Long.toHexString(leaseId), true,
        () -> client.getLeaseClient().revoke(leaseId))
        .handle((r, error) -> {
          if (error != null && TorusExceptions.unwrap(error).code() != ErrorCode.NOT_FOUND) {
            throw TorusExceptions.unwrap(error);
          }
          return null;
        });
  }

  @Override
  public Subscription watch(String prefix, Consumer<Range> onChange) {
    if (!prefix.endsWith("/")) {
      throw TorusExceptions.invalid("prefix must end with '/': " + prefix);
    }
    if (closed) {
      throw TorusExceptions.closed(location());
    }
    EtcdWatch w = new EtcdWatch(this, client.getWatchClient(), prefix, onChange, scheduler,
        watches::remove);
    watches.add(w);
    w.start();
    return w;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (EtcdWatch w : watches) {
      w.close();
    }
    client.close();
  }

  /**
   * Runs one etcd call with the store's deadline and error mapping. {@code what} names the call
   * in messages; {@code write} says whether a timeout leaves its outcome unknown.
   */
  <T> CompletableFuture<T> call(String what, boolean write, Supplier<CompletableFuture<T>> call) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed(location()));
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    ScheduledFuture<?> timer;
    try {
      timer = scheduler.schedule(() -> result.completeExceptionally(errors.timedOut(what, write)),
          config.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          TorusExceptions.closed("the scheduler of " + location()));
    }
    CompletableFuture<T> etcd;
    try {
      etcd = call.get();
    } catch (RuntimeException e) {
      etcd = CompletableFuture.failedFuture(e);
    }
    etcd.whenComplete((value, error) -> {
      timer.cancel(false);
      if (error != null) {
        result.completeExceptionally(errors.map(what, error));
      } else {
        result.complete(value);
      }
    });
    return result;
  }

  /** The scheduler that times calls and runs watch callbacks. */
  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  // ---- mapping

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  static KeyValue keyValue(io.etcd.jetcd.KeyValue kv) {
    return new KeyValue(kv.getKey().toString(UTF_8), kv.getValue().getBytes(),
        kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease());
  }

  /** The end of the range of keys under {@code prefix}: its last byte, '/', plus one. */
  static ByteSequence prefixEnd(String prefix) {
    return bytes(prefix.substring(0, prefix.length() - 1) + (char) ('/' + 1));
  }

  static GetOption prefixGet(String prefix) {
    return GetOption.builder().withRange(prefixEnd(prefix)).build();
  }

  private static Cmp cmp(Compare c) {
    Cmp.Op op = switch (c.op()) {
      case EQUAL -> Cmp.Op.EQUAL;
      case NOT_EQUAL -> Cmp.Op.NOT_EQUAL;
      case GREATER -> Cmp.Op.GREATER;
      case LESS -> Cmp.Op.LESS;
    };
    CmpTarget<?> target = switch (c.target()) {
      case VERSION -> CmpTarget.version(c.number());
      case CREATE_REVISION -> CmpTarget.createRevision(c.number());
      case MOD_REVISION -> CmpTarget.modRevision(c.number());
      case VALUE -> CmpTarget.value(ByteSequence.from(c.value()));
    };
    return new Cmp(bytes(c.key()), op, target);
  }

  private static Op[] ops(List<KvOp> ops) {
    List<Op> out = new ArrayList<>(ops.size());
    for (KvOp op : ops) {
      if (op instanceof KvOp.Put put) {
        PutOption opt = put.lease() == 0 ? PutOption.DEFAULT
            : PutOption.builder().withLeaseId(put.lease()).build();
        out.add(Op.put(bytes(put.key()), ByteSequence.from(put.value()), opt));
      } else if (op instanceof KvOp.Delete del) {
        out.add(Op.delete(bytes(del.key()), DeleteOption.DEFAULT));
      } else if (op instanceof KvOp.DeletePrefix del) {
        out.add(Op.delete(bytes(del.prefix()),
            DeleteOption.builder().withRange(prefixEnd(del.prefix())).build()));
      } else if (op instanceof KvOp.Get g) {
        out.add(Op.get(bytes(g.key()), GetOption.DEFAULT));
      } else if (op instanceof KvOp.GetPrefix g) {
        out.add(Op.get(bytes(g.prefix()), prefixGet(g.prefix())));
      }
    }
    return out.toArray(Op[]::new);
  }

  /**
   * Gives every unary call a deadline, so that gRPC itself abandons a call to an etcd that does
   * not answer. Streams (watches, keep-alives) are long-lived and get none.
   */
  private static final class DeadlineInterceptor implements ClientInterceptor {
    private final Duration timeout;

    DeadlineInterceptor(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    public <Q, S> ClientCall<Q, S> interceptCall(
        MethodDescriptor<Q, S> method, CallOptions options, Channel next) {
      if (method.getType() == MethodDescriptor.MethodType.UNARY && options.getDeadline() == null) {
        options = options.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      return next.newCall(method, options);
    }
  }
}
