package dev.torus.nbd;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server: serves the exports of an {@link ExportResolver} to NBD clients over TCP, a Unix
 * domain socket, or both.
 *
 * <p>It speaks fixed-newstyle negotiation with NO_ZEROES; the options EXPORT_NAME, GO, INFO, LIST,
 * ABORT, STRUCTURED_REPLY, EXTENDED_HEADERS and LIST/SET_META_CONTEXT ({@code base:allocation});
 * the commands READ, WRITE, FLUSH, TRIM, CACHE, WRITE_ZEROES (NO_HOLE, FAST_ZERO), BLOCK_STATUS
 * (REQ_ONE) and DISC, with the FUA and DF flags; simple replies for clients that negotiate nothing
 * (the Linux kernel), structured or extended replies for those that do. Many requests run at once
 * on a connection and replies go out as requests complete.
 *
 * <p>Lifecycle: {@link #start} binds and returns a running server; {@link #close()} stops
 * accepting, lets connections finish their in-flight requests (answering new ones with ESHUTDOWN)
 * for up to {@link NbdServerConfig#shutdownGrace()}, closes whatever is left, closes every device
 * connections opened, and releases the threads. The server owns its event-loop threads and a
 * small pool that closes devices, because closing a writable volume commits and may block.
 *
 * <p>Thread-safe.
 */
public final class NbdServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NbdServer.class);

  private enum State {
    RUNNING,
    CLOSING,
    CLOSED
  }

  private final NbdServerConfig config;
  private final ServerContext context;
  private final EventLoopGroup group;
  private final ExecutorService closer;
  private final ChannelGroup connections;
  private final List<Channel> listeners = new ArrayList<>();
  private volatile @Nullable Channel tcpListener;
  private final AtomicReference<State> state = new AtomicReference<>(State.RUNNING);
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  /** The socket file this server created, which it removes on close. */
  private volatile @Nullable Path boundUnixSocket;

  private NbdServer(NbdServerConfig config, ExportResolver exports, NbdTransport transport,
      @Nullable SslContext tls) {
    this.config = config;
    this.group =
        new MultiThreadIoEventLoopGroup(
            config.ioThreads(), new DefaultThreadFactory("torus-nbd-io", true),
            transport.ioHandlerFactory(config.idlePoll()));
    this.closer = Executors.newCachedThreadPool(new DefaultThreadFactory("torus-nbd-close", true));
    this.context = new ServerContext(config, exports, closer, tls);
    this.connections = new DefaultChannelGroup("nbd-connections", GlobalEventExecutor.INSTANCE);
  }

  /**
   * Starts a server: binds its listeners and returns once clients can connect.
   *
   * @throws TorusException {@code UNAVAILABLE} if a listener cannot bind, {@code ALREADY_EXISTS}
   *     if the Unix socket path exists, {@code INVALID_ARGUMENT} if the TLS files cannot be used
   */
  public static NbdServer start(NbdServerConfig config, ExportResolver exports) {
    return start(config, exports, NbdTransport.best());
  }

  static NbdServer start(NbdServerConfig config, ExportResolver exports, NbdTransport transport) {
    Path unix = config.unixSocket();
    if (unix != null && Files.exists(unix)) {
      throw new TorusException(ErrorCode.ALREADY_EXISTS,
          "Unix socket " + unix + " already exists; remove it if no server is using it");
    }
    NbdTls tls = config.tls();
    SslContext sslContext = tls == null ? null : sslContext(tls);
    NbdServer server = new NbdServer(config, exports, transport, sslContext);
    InetSocketAddress tcp = config.bindAddress();
    try {
      if (tcp != null) {
        server.tcpListener = server.listen(transport.tcpChannel(), tcp, true);
      }
      if (unix != null) {
        server.listen(transport.unixChannel(), transport.unixAddress(unix), false);
        server.boundUnixSocket = unix;
      }
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    log.info("NBD server listening on {}",
        server.listeners.stream().map(Channel::localAddress).toList());
    return server;
  }

  /**
   * Registers the server's meters: {@code torus_nbd_connections} (open now), and counters of
   * connections accepted and dropped (protocol violations, failed TLS), requests by {@code
   * command}, error replies by {@code error}, and bytes read and written.
   */
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("torus_nbd_connections", connections, ChannelGroup::size)
        .description("client connections open").register(registry);
    context.stats().bindTo(registry);
  }

  /** Loads the certificate and key once; each connection that starts TLS gets an engine of it. */
  private static SslContext sslContext(NbdTls tls) {
    try {
      SslContextBuilder builder =
          SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
              .protocols("TLSv1.3", "TLSv1.2"); // the spec's minimum is 1.2
      Path clientCa = tls.clientCa();
      if (clientCa != null) {
        builder.trustManager(clientCa.toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw TorusExceptions.invalid("cannot use " + tls.certificateChain() + " and "
          + tls.privateKey() + (tls.clientCa() == null ? "" : " and " + tls.clientCa())
          + " for NBD TLS (PEM certificates and an unencrypted PKCS#8 key): " + e.getMessage());
    }
  }

  /**
   * The bound TCP address; with port 0 in the configuration, this has the actual port.
   *
   * @throws IllegalStateException if the server has no TCP listener
   */
  public InetSocketAddress boundAddress() {
    Channel tcp = tcpListener;
    if (tcp == null) {
      throw new IllegalStateException("this NBD server has no TCP listener");
    }
    return (InetSocketAddress) tcp.localAddress();
  }

  /**
   * Stops the server; idempotent, and a call while another is closing waits for it. Waits up to
   * the shutdown grace for connections to drain, then for the devices they opened to close.
   */
  @Override
  public void close() {
    if (!state.compareAndSet(State.RUNNING, State.CLOSING)) {
      closed.join();
      return;
    }
    try {
      context.startShutdown();
      for (Channel listener : listeners) {
        listener.close().awaitUninterruptibly();
      }
      connections.forEach(c -> c.pipeline().fireUserEventTriggered(TransmissionHandler.SHUTDOWN));
      Duration grace = config.shutdownGrace();
      if (!connections.newCloseFuture().awaitUninterruptibly(grace.toMillis())) {
        log.info("closing {} NBD connections still busy after {}", connections.size(), grace);
        connections.close().awaitUninterruptibly();
      }
      group.shutdownGracefully(0, grace.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly();
      context.closeAll(grace);
      closer.shutdown();
      Path unix = boundUnixSocket;
      if (unix != null) {
        try {
          Files.deleteIfExists(unix);
        } catch (IOException e) {
          log.warn("cannot remove Unix socket {}: {}", unix, e.toString());
        }
      }
      log.info("NBD server stopped");
    } finally {
      state.set(State.CLOSED);
      closed.complete(null);
    }
  }

  private Channel listen(Class<? extends ServerChannel> type, SocketAddress address, boolean tcp) {
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(type)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.add(ch);
                    context.stats().accepted();
                    NbdPipeline.handshake(ch.pipeline(), context);
                  }
                });
    if (tcp) {
      // Nagle would hold back a small reply waiting for the ACK of the previous one.
      bootstrap.childOption(ChannelOption.TCP_NODELAY, true);
      bootstrap.childOption(ChannelOption.SO_KEEPALIVE, true);
    }
    ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw TorusExceptions.cannotListen("NBD", address, bound.cause());
    }
    listeners.add(bound.channel());
    return bound.channel();
  }
}
