package dev.torus.transport.tcp;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.transport.PeerTransportConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.collection.IntObjectHashMap;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of a peer client's connection slots: at most one TCP connection at a time, opened when a
 * call needs it and again after it is lost, carrying many requests at once.
 */
final class Connection {
  /*
   * Concurrency: every field is confined to one event loop, the slot's for its whole life (each of
   *   its channels is registered there too). Callers hand calls over with loop.execute; handler
   *   events, deadline timers and write listeners all run on the loop, so there are no locks. Only
   *   `load` is read elsewhere, to pick the least loaded slot.
   * Ordering: waiting calls are sent in arrival order; answers are matched by request id and may
   *   come in any order. Ids skip 0 (connection-level frames) and ids still in flight.
   * Back-pressure: at most maxInFlightPerConnection requests are sent and unanswered, and nothing
   *   is written while the channel is not writable; the rest wait, up to maxQueuedPerConnection,
   *   beyond which calls fail with UNAVAILABLE at once. Waiting counts against the deadline.
   * Failure: a deadline fails its call with TIMEOUT and forgets it; a late answer is released and
   *   the connection stays usable. A lost connection fails the calls in flight with the most
   *   specific reason known (the peer's connection error, a protocol violation, the keep-alive
   *   silence, or "closed"); waiting calls get a new connection, or the connect failure. A failed
   *   connect or handshake backs the peer off (TcpPeerClient).
   * Keep-alive: after keepAliveInterval without traffic the client sends PING; a healthy server
   *   answers at once on its event loop, whatever its service is doing. After idleTimeout with
   *   nothing received the connection is closed. Pings are ordinary writes on the loop: no lock,
   *   so no keep-alive deadlock (original 12.13).
   */
  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  private final TcpPeerClient client;
  private final EventLoop loop;
  private final PeerTransportConfig config;
  private final ArrayDeque<Call<?>> waiting = new ArrayDeque<>();
  private final IntObjectHashMap<Call<?>> inFlight = new IntObjectHashMap<>();
  private @Nullable Channel channel;
  private boolean ready;
  private boolean closed;
  private @Nullable TorusException closeReason;
  private int lastId;
  private volatile int load;

  Connection(TcpPeerClient client, EventLoop loop) {
    this.client = client;
    this.loop = loop;
    this.config = client.transport().config();
  }

  /** Calls waiting or in flight; read from any thread. */
  int load() {
    return load;
  }

  /** Takes a call from any thread. */
  void submit(Call<?> call) {
    try {
      loop.execute(() -> enqueue(call));
    } catch (RejectedExecutionException e) {
      call.fail(client.closedFailure());
    }
  }

  /** Fails every call with CLOSED and closes the channel; from any thread. */
  void close() {
    try {
      loop.execute(() -> {
        closed = true;
        failAll(client.closedFailure());
        if (channel != null) {
          channel.close();
        }
      });
    } catch (RejectedExecutionException e) {
      // The transport's I/O threads are already stopping; they close the channel themselves.
    }
  }

  private void enqueue(Call<?> call) {
    if (closed) {
      call.fail(client.closedFailure());
      return;
    }
    if (channel == null) {
      TorusException backedOff = client.backedOff();
      if (backedOff != null) {
        call.fail(backedOff);
        return;
      }
    }
    if (waiting.size() >= config.maxQueuedPerConnection()) {
      call.fail(client.unavailable(waiting.size() + " calls are already waiting on a connection;"
          + " the peer or the network is too slow for this load", null));
      return;
    }
    call.arm(loop, () -> expire(call));
    waiting.add(call);
    if (channel == null) {
      connect();
    } else {
      drain();
    }
    updateLoad();
  }

  private void expire(Call<?> call) {
    if (!waiting.remove(call) && inFlight.get(call.requestId()) == call) {
      inFlight.remove(call.requestId());
    }
    updateLoad();
    call.fail(new TorusException(ErrorCode.TIMEOUT, "peer " + client.peer() + " at "
        + client.address() + " did not answer " + call.what() + " within " + call.timeout()));
  }

  private void connect() {
    TorusException backedOff = client.backedOff();
    if (backedOff != null) {
      failWaiting(backedOff);
      return;
    }
    TcpPeerTransport transport = client.transport();
    long idleMillis = config.idleTimeout().toMillis();
    long keepAliveMillis = config.keepAliveInterval().toMillis();
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, transport.waterMark())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(
                new FlushConsolidationHandler(
                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                new IdleStateHandler(idleMillis, 0, keepAliveMillis, TimeUnit.MILLISECONDS),
                new FrameDecoder(config.maxFrameSize().bytes()),
                new Handler());
          }
        });
    ChannelFuture connecting = bootstrap.connect(client.address().toSocketAddress());
    Channel ch = connecting.channel();
    channel = ch;
    ready = false;
    closeReason = null;
    connecting.addListener(done -> {
      if (!done.isSuccess()) {
        Throwable cause = done.cause();
        closeReason = client.unavailable("cannot connect: "
            + (cause == null ? "unknown failure" : cause.getMessage()), cause);
        onClosed(ch);
        return;
      }
      ch.closeFuture().addListener(closedNow -> onClosed(ch));
      ch.writeAndFlush(Protocol.hello(ch.alloc(), MessageType.HELLO, new Protocol.Hello(
          Protocol.MIN_VERSION, Protocol.MAX_VERSION, transport.blockSize(), transport.self())));
    });
    loop.schedule(() -> {
      if (channel == ch && !ready) {
        closeWith(ch, client.unavailable("no handshake within " + config.connectTimeout(), null));
      }
    }, config.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  private void onHello(Channel ch, Frame answer) {
    if (answer.type() == MessageType.ERROR) {
      TorusException refused = Protocol.readError(answer.content());
      closeWith(ch, new TorusException(refused.code(), "peer " + client.peer() + " at "
          + client.address() + " refused the connection: " + refused.getMessage()));
      return;
    }
    if (answer.type() != MessageType.HELLO_OK) {
      closeWith(ch, new TorusException(ErrorCode.PROTOCOL, "peer " + client.peer() + " at "
          + client.address() + " answered HELLO with " + answer));
      return;
    }
    Protocol.Hello hello = Protocol.readHello(answer.content());
    int blockSize = client.transport().blockSize();
    if (hello.minVersion() != hello.maxVersion() || hello.minVersion() < Protocol.MIN_VERSION
        || hello.maxVersion() > Protocol.MAX_VERSION) {
      closeWith(ch, new TorusException(ErrorCode.PROTOCOL, "peer " + client.peer() + " at "
          + client.address() + " chose protocol versions " + hello.minVersion() + ".."
          + hello.maxVersion() + "; this node speaks " + Protocol.MIN_VERSION + ".."
          + Protocol.MAX_VERSION));
    } else if (hello.blockSize() != blockSize) {
      closeWith(ch, new TorusException(ErrorCode.INVALID_ARGUMENT, "peer " + client.peer()
          + " at " + client.address() + " uses " + hello.blockSize() + "-byte blocks, this node "
          + blockSize));
    } else if (!hello.peer().equals(client.peer())) {
      closeWith(ch, client.unavailable("the node there is " + hello.peer()
          + ", not the expected peer; its address may be stale", null));
    } else {
      ready = true;
      client.connected();
      log.debug("connected to peer {} at {}", client.peer(), client.address());
      drain();
    }
  }

  private void onAnswer(Channel ch, Frame answer) {
    if (answer.type() == MessageType.PONG) {
      return;
    }
    if (answer.requestId() == Protocol.CONNECTION_ID && answer.type() == MessageType.ERROR) {
      closeWith(ch, client.remoteFailure(Protocol.readError(answer.content())));
      return;
    }
    Call<?> call = inFlight.remove(answer.requestId());
    if (call == null) {
      log.trace("late answer from peer {}: {}", client.peer(), answer);
      return;
    }
    call.answer(answer, client);
    drain();
    updateLoad();
  }

  /** Sends waiting calls while the in-flight limit and the channel's writability allow. */
  private void drain() {
    Channel ch = channel;
    if (!ready || ch == null) {
      return;
    }
    boolean wrote = false;
    while (!waiting.isEmpty() && inFlight.size() < config.maxInFlightPerConnection()
        && ch.isWritable()) {
      Call<?> call = waiting.poll();
      int id = nextId();
      inFlight.put(id, call);
      ch.write(call.send(id), ch.voidPromise());
      wrote = true;
    }
    if (wrote) {
      ch.flush();
    }
  }

  private int nextId() {
    do {
      lastId++;
    } while (lastId == Protocol.CONNECTION_ID || inFlight.containsKey(lastId));
    return lastId;
  }

  private void closeWith(Channel ch, TorusException reason) {
    if (channel == ch && closeReason == null) {
      closeReason = reason;
    }
    ch.close();
  }

  private void onClosed(Channel ch) {
    if (channel != ch) {
      return;
    }
    channel = null;
    boolean wasReady = ready;
    ready = false;
    TorusException reason = closeReason != null ? closeReason
        : client.unavailable("connection closed", null);
    log.debug("connection to peer {} at {} closed: {}", client.peer(), client.address(),
        reason.getMessage());
    failInFlight(reason);
    if (!wasReady) {
      client.connectFailed(reason);
      failWaiting(reason);
    } else if (!waiting.isEmpty() && !closed) {
      connect();
    }
    updateLoad();
  }

  private void failAll(TorusException reason) {
    failInFlight(reason);
    failWaiting(reason);
  }

  private void failInFlight(TorusException reason) {
    List<Call<?>> calls = new ArrayList<>(inFlight.values());
    inFlight.clear();
    calls.forEach(c -> c.fail(reason));
    updateLoad();
  }

  private void failWaiting(TorusException reason) {
    Call<?> call;
    while ((call = waiting.poll()) != null) {
      call.fail(reason);
    }
    updateLoad();
  }

  private void updateLoad() {
    load = waiting.size() + inFlight.size();
  }

  /** The pipeline's end for one channel of this slot; events from an old channel are ignored. */
  private final class Handler extends SimpleChannelInboundHandler<Frame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
      Channel ch = ctx.channel();
      if (channel != ch) {
        return;
      }
      try {
        if (ready) {
          onAnswer(ch, frame);
        } else {
          onHello(ch, frame);
        }
      } catch (TorusException e) {
        closeWith(ch, new TorusException(e.code(), "peer " + client.peer() + " at "
            + client.address() + ": " + e.getMessage(), e));
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (channel == ctx.channel()) {
        drain();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (!(event instanceof IdleStateEvent idle)) {
        ctx.fireUserEventTriggered(event);
      } else if (idle.state() == IdleState.ALL_IDLE && ready && channel == ctx.channel()) {
        ctx.writeAndFlush(Protocol.empty(ctx.alloc(), MessageType.PING, nextId()));
      } else if (idle.state() == IdleState.READER_IDLE) {
        closeWith(ctx.channel(), client.unavailable("nothing received for "
            + config.idleTimeout() + "; the peer or the network is hung", null));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      TorusException reason;
      if (cause instanceof DecoderException && cause.getCause() instanceof TorusException e) {
        reason = new TorusException(e.code(), "peer " + client.peer() + " at " + client.address()
            + " sent a bad frame: " + e.getMessage(), e);
      } else if (cause instanceof IOException) {
        reason = client.unavailable("connection failed: " + cause.getMessage(), cause);
      } else {
        log.warn("connection to peer {} at {} failed", client.peer(), client.address(), cause);
        reason = client.unavailable("connection failed: " + cause, cause);
      }
      closeWith(ctx.channel(), reason);
    }
  }
}
