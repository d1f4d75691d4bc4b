package dev.torus.transport.tcp;

import dev.torus.PeerId;
import dev.torus.TorusExceptions;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransport;
import dev.torus.transport.PeerTransportConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The peer transport over TCP: the binary peer protocol of docs/peer-protocol.md on Netty.
 * Addresses are {@code tcp://host:port}.
 *
 * <p>Each node makes one transport with its own id and the cluster's block size; both are checked
 * in the handshake of every connection, so peers of another cluster or another block size are
 * refused with a clear error instead of exchanging garbage. Calls to one peer share a small pool of
 * connections, each carrying many requests at once.
 *
 * <p>Threads and lifecycle: the transport owns {@link PeerTransportConfig#ioThreads()} daemon I/O
 * threads ({@code torus-peer-*}), started by {@link #create} and stopped by {@link #close()} after
 * every client and server it made is closed. Client futures complete on the {@code
 * callbackExecutor} given to {@link #create}, which the caller owns; with a direct executor ({@code
 * Runnable::run}) dependent stages run on I/O threads and must not block. Services are called on
 * I/O threads and must not block either. Do not call {@link #close()} from a callback on an I/O
 * thread: it then cannot wait for the threads to stop.
 */
public final class TcpPeerTransport implements PeerTransport {
  /** The address scheme of this transport. */
  public static final String SCHEME = "tcp";

  private static final int MIN_WATER_MARK = 64 * 1024;

  private final PeerId self;
  private final int blockSize;
  private final PeerTransportConfig config;
  private final Executor callbacks;
  private final EventLoopGroup group;
  private final ConcurrentHashMap<PeerId, TcpPeerClient> clients = new ConcurrentHashMap<>();
  private final Set<TcpPeerServer> servers = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  private TcpPeerTransport(PeerId self, int blockSize, PeerTransportConfig config,
      Executor callbacks) {
    this.self = Objects.requireNonNull(self, "self");
    this.config = Objects.requireNonNull(config, "config");
    this.callbacks = Objects.requireNonNull(callbacks, "callbackExecutor");
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block size must be positive: " + blockSize);
    }
    if (config.maxFrameSize().bytes() < Protocol.PUT_PREFIX + (long) blockSize) {
      throw new IllegalArgumentException("maxFrameSize " + config.maxFrameSize()
          + " cannot hold a block of " + blockSize + " bytes and its " + Protocol.PUT_PREFIX
          + "-byte prefix");
    }
    this.blockSize = blockSize;
    this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
        new DefaultThreadFactory("torus-peer", true), NioIoHandler.newFactory());
  }

  /**
   * A transport for the node {@code self} in a cluster of {@code blockSize}-byte blocks; starts its
   * I/O threads.
   *
   * @param callbackExecutor where client futures complete; owned by the caller
   * @throws IllegalArgumentException if {@code config.maxFrameSize()} cannot hold a block
   */
  public static TcpPeerTransport create(PeerId self, int blockSize, PeerTransportConfig config,
      Executor callbackExecutor) {
    return new TcpPeerTransport(self, blockSize, config, callbackExecutor);
  }

  @Override
  public PeerClient client(PeerId id, String address) {
    PeerAddress parsed = PeerAddress.parse(address).requireScheme(SCHEME).requireDialable();
    checkOpen();
    TcpPeerClient[] replaced = new TcpPeerClient[1];
    TcpPeerClient client = clients.compute(id, (peer, old) -> {
      if (old != null && old.address().equals(parsed)) {
        return old;
      }
      replaced[0] = old;
      return new TcpPeerClient(this, peer, parsed);
    });
    if (replaced[0] != null) {
      replaced[0].close();
    }
    return client;
  }

  @Override
  public PeerServer serve(InetSocketAddress bind, PeerService service) {
    Objects.requireNonNull(service, "service");
    checkOpen();
    TcpPeerServer server = TcpPeerServer.bind(this, bind, service);
    servers.add(server);
    if (closed.get()) {
      server.close();
      checkOpen();
    }
    return server;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    clients.values().forEach(TcpPeerClient::close);
    servers.forEach(TcpPeerServer::close);
    Future<?> stopped = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    if (!onIoThread()) {
      stopped.awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw TorusExceptions.closed("TCP peer transport");
    }
  }

  boolean onIoThread() {
    for (EventExecutor loop : group) {
      if (loop.inEventLoop()) {
        return true;
      }
    }
    return false;
  }

  void forget(TcpPeerClient client) {
    clients.remove(client.peer(), client);
  }

  void forget(TcpPeerServer server) {
    servers.remove(server);
  }

  PeerId self() {
    return self;
  }

  int blockSize() {
    return blockSize;
  }

  PeerTransportConfig config() {
    return config;
  }

  Executor callbacks() {
    return callbacks;
  }

  EventLoopGroup group() {
    return group;
  }

  /**
   * Outbound buffer limits: a connection stops taking requests (client) or reading (server) while
   * more than a few blocks wait to be written.
   */
  WriteBufferWaterMark waterMark() {
    int low = Math.max(MIN_WATER_MARK, 2 * blockSize);
    return new WriteBufferWaterMark(low, 2 * low);
  }
}
