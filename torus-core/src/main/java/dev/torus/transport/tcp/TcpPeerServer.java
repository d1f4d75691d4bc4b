package dev.torus.transport.tcp;

import dev.torus.TorusExceptions;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** A listening socket and its connections, each answered by a {@link ServerHandler}. */
final class TcpPeerServer implements PeerServer {
  private final TcpPeerTransport transport;
  private final Channel listener;
  private final ChannelGroup connections;
  private final InetSocketAddress bound;
  private final AtomicBoolean closed = new AtomicBoolean();

  private TcpPeerServer(TcpPeerTransport transport, Channel listener, ChannelGroup connections) {
    this.transport = transport;
    this.listener = listener;
    this.connections = connections;
    this.bound = (InetSocketAddress) listener.localAddress();
  }

  static TcpPeerServer bind(TcpPeerTransport transport, InetSocketAddress bind,
      PeerService service) {
    // The group's futures complete on one of the transport's own loops, not Netty's global thread.
    ChannelGroup connections = new DefaultChannelGroup("torus-peer-server",
        transport.group().next());
    long idleMillis = transport.config().idleTimeout().toMillis();
    long maxBody = transport.config().maxFrameSize().bytes();
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(transport.group())
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, transport.waterMark())
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            ch.pipeline().addLast(
                new FlushConsolidationHandler(
                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS),
                new FrameDecoder(maxBody),
                new ServerHandler(transport, service));
          }
        });
    ChannelFuture bound = bootstrap.bind(bind).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw TorusExceptions.cannotListen("peers", bind, bound.cause());
    }
    return new TcpPeerServer(transport, bound.channel(), connections);
  }

  @Override
  public InetSocketAddress boundAddress() {
    return bound;
  }

  @Override
  public PeerAddress address() {
    return PeerAddress.of(TcpPeerTransport.SCHEME, bound);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    transport.forget(this);
    ChannelFuture stopped = listener.close();
    var dropped = connections.close();
    if (!transport.onIoThread()) {
      stopped.awaitUninterruptibly();
      dropped.awaitUninterruptibly();
    }
  }

  @Override
  public String toString() {
    return "TcpPeerServer(" + address() + ")";
  }
}
