package dev.torus.transport.local;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransport;
import dev.torus.transport.PeerTransportConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link PeerTransport} inside one process: the network of every node that shares this object.
 * Servers register under {@code local://host:port} (port 0 picks the next free number) and clients
 * call them directly. For tests and single-process clusters; it behaves as the TCP transport does
 * at its API: deadlines, error codes and buffer ownership are the same, and block bytes are copied
 * across, as the wire would, so no buffer is ever shared between two nodes.
 *
 * <p>Failure hooks, keyed by the peer a client calls: {@link #failPeer}, {@link #delay} and {@link
 * #beforePut}. Thread-safe; hooks take effect for calls made after they are set.
 */
public final class LocalTransport implements PeerTransport {
  /*
   * Concurrency: maps and volatile hooks; no locks. A call runs on the caller's thread (or, when
   *   the peer is delayed, on the common pool after the delay) straight into the peer's service, so
   *   undelayed calls are deterministic.
   * Ordering: undelayed calls reach the service in the order they are made on one thread.
   * Failure: reachability is decided when the call is delivered: a closed transport or client
   *   gives CLOSED, a failed peer or an address nobody serves gives UNAVAILABLE. The deadline runs
   *   from the call; a result that arrives after it is released. Service failures keep their code.
   */

  /** The address scheme of this transport. */
  public static final String SCHEME = "local";

  private final PeerTransportConfig config;
  private final ConcurrentHashMap<PeerAddress, LocalServer> servers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<PeerId, LocalClient> clients = new ConcurrentHashMap<>();
  private final Set<PeerId> failed = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<PeerId, Duration> delays = new ConcurrentHashMap<>();
  private final AtomicInteger nextPort = new AtomicInteger(1);
  private volatile Consumer<BlockRef> beforePut = ref -> { };
  private volatile boolean closed;

  private LocalTransport(PeerTransportConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /** A new, empty network; only the deadlines of {@code config} apply. */
  public static LocalTransport create(PeerTransportConfig config) {
    return new LocalTransport(config);
  }

  /** Makes every call to {@code peer} fail with {@code UNAVAILABLE} until {@link #healPeer}. */
  public void failPeer(PeerId peer) {
    failed.add(peer);
  }

  /** Undoes {@link #failPeer}. */
  public void healPeer(PeerId peer) {
    failed.remove(peer);
  }

  /**
   * Holds every call to {@code peer} for {@code delay} before it reaches the peer, as a slow
   * network would; the caller's deadline keeps running. {@link Duration#ZERO} removes the delay.
   */
  public void delay(PeerId peer, Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay < 0: " + delay);
    }
    if (delay.isZero()) {
      delays.remove(peer);
    } else {
      delays.put(peer, delay);
    }
  }

  /**
   * Runs {@code hook} with the ref of every put just before it reaches a peer's service, replacing
   * the previous hook. If the hook throws, the put fails with that exception's code (a non-Torus
   * exception counts as {@code INTERNAL}) and nothing is stored.
   */
  public void beforePut(Consumer<BlockRef> hook) {
    beforePut = Objects.requireNonNull(hook, "hook");
  }

  @Override
  public PeerClient client(PeerId id, String address) {
    PeerAddress parsed = PeerAddress.parse(address).requireScheme(SCHEME).requireDialable();
    checkOpen();
    return clients.compute(id, (peer, old) -> {
      if (old != null && old.address().equals(parsed)) {
        return old;
      }
      if (old != null) {
        old.closed = true;
      }
      return new LocalClient(peer, parsed);
    });
  }

  @Override
  public PeerServer serve(InetSocketAddress bind, PeerService service) {
    Objects.requireNonNull(service, "service");
    checkOpen();
    String host = bind.getHostString();
    if (bind.getPort() != 0) {
      PeerAddress address = new PeerAddress(SCHEME, host, bind.getPort());
      LocalServer server = new LocalServer(address, service);
      if (servers.putIfAbsent(address, server) != null) {
        throw TorusExceptions.unavailable("cannot serve at " + address + ": address in use", null);
      }
      return server;
    }
    while (true) {
      PeerAddress address = new PeerAddress(SCHEME, host, nextPort.getAndIncrement());
      LocalServer server = new LocalServer(address, service);
      if (servers.putIfAbsent(address, server) == null) {
        return server;
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    clients.values().forEach(LocalClient::close);
    servers.clear();
  }

  private void checkOpen() {
    if (closed) {
      throw TorusExceptions.closed("local transport");
    }
  }

  /**
   * Delivers one call to the peer's service. {@code dropInput} releases what the call owns if it
   * never reaches the service; {@code dropOutput} releases a result nobody will take.
   */
  private <T> CompletableFuture<T> call(LocalClient client, String op, Duration timeout,
      Function<PeerService, CompletableFuture<T>> invoke, Runnable dropInput,
      Consumer<? super T> dropOutput) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    Runnable deliver = () -> {
      PeerService service;
      try {
        service = reach(client);
      } catch (TorusException e) {
        dropInput.run();
        answer.completeExceptionally(e);
        return;
      }
      CompletableFuture<T> reply;
      try {
        reply = invoke.apply(service);
      } catch (RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      reply.whenComplete((value, error) -> {
        if (error != null) {
          answer.completeExceptionally(client.remoteFailure(error));
        } else if (!answer.complete(value)) {
          dropOutput.accept(value);
        }
      });
    };
    Duration delay = delays.get(client.peer());
    if (delay == null) {
      deliver.run();
    } else {
      CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS).execute(deliver);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    answer.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).whenComplete((value, error) -> {
      if (error instanceof TimeoutException) {
        result.completeExceptionally(new TorusException(ErrorCode.TIMEOUT, "peer " + client.peer()
            + " at " + client.address() + " did not answer " + op + " within " + timeout));
      } else if (error != null) {
        result.completeExceptionally(error);
      } else if (!result.complete(value)) {
        dropOutput.accept(value);
      }
    });
    return result;
  }

  private PeerService reach(LocalClient client) {
    if (closed) {
      throw TorusExceptions.closed("local transport");
    }
    if (client.closed) {
      throw TorusExceptions.closed("client of peer " + client.peer());
    }
    if (failed.contains(client.peer())) {
      throw TorusExceptions.unavailable("peer " + client.peer() + " at " + client.address()
          + " is unreachable (failed by LocalTransport.failPeer)", null);
    }
    LocalServer server = servers.get(client.address());
    if (server == null) {
      throw TorusExceptions.unavailable(
          "peer " + client.peer() + " is unreachable: nothing serves at " + client.address(), null);
    }
    return server.service;
  }

  private static ByteBuf copyAndRelease(ByteBuf data) {
    try {
      return ByteBufAllocator.DEFAULT.buffer(data.readableBytes()).writeBytes(data);
    } finally {
      data.release();
    }
  }

  private final class LocalClient implements PeerClient {
    private final PeerId peer;
    private final PeerAddress address;
    private volatile boolean closed;

    LocalClient(PeerId peer, PeerAddress address) {
      this.peer = peer;
      this.address = address;
    }

    @Override
    public PeerId peer() {
      return peer;
    }

    @Override
    public PeerAddress address() {
      return address;
    }

    @Override
    public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
      return call(this, "getBlock " + ref, config.readTimeout(),
          s -> s.getBlock(ref).thenApply(LocalTransport::copyAndRelease), () -> { },
          ByteBuf::release);
    }

    @Override
    public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
      ByteBuf copy = copyAndRelease(data);
      return call(this, "putBlock " + ref, config.writeTimeout(), s -> {
        try {
          beforePut.accept(ref);
        } catch (RuntimeException e) {
          copy.release();
          throw e;
        }
        return s.putBlock(ref, copy);
      }, copy::release, v -> { });
    }

    @Override
    public CompletableFuture<BitSet> hasBlocks(List<BlockRef> refs) {
      List<BlockRef> copy = List.copyOf(refs);
      return call(this, "hasBlocks of " + copy.size() + " refs", config.readTimeout(),
          s -> s.hasBlocks(copy).thenApply(bits -> bits.get(0, copy.size())), () -> { }, v -> { });
    }

    @Override
    public CompletableFuture<Void> deleteBlock(BlockRef ref) {
      return call(this, "deleteBlock " + ref, config.writeTimeout(), s -> s.deleteBlock(ref),
          () -> { }, v -> { });
    }

    @Override
    public CompletableFuture<Void> flush() {
      return call(this, "flush", config.flushTimeout(), PeerService::flush, () -> { }, v -> { });
    }

    TorusException remoteFailure(Throwable error) {
      TorusException cause = TorusExceptions.unwrap(error);
      return new TorusException(
          cause.code(), "peer " + peer + " at " + address + ": " + cause.getMessage(), cause);
    }

    @Override
    public void close() {
      closed = true;
      clients.remove(peer, this);
    }
  }

  private final class LocalServer implements PeerServer {
    private final PeerAddress address;
    private final PeerService service;

    LocalServer(PeerAddress address, PeerService service) {
      this.address = address;
      this.service = service;
    }

    @Override
    public InetSocketAddress boundAddress() {
      return address.toSocketAddress();
    }

    @Override
    public PeerAddress address() {
      return address;
    }

    @Override
    public void close() {
      servers.remove(address, this);
    }
  }
}
