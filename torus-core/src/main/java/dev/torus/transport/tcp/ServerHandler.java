package dev.torus.transport.tcp;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.transport.PeerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one connection's requests with a {@link PeerService}.
 *
 * <p>Every request that passed framing gets exactly one answer: its result or an ERROR frame with
 * the failure's code and message. Framing violations (bad magic, version or length) and a missing
 * HELLO get a connection-level ERROR (request id 0), after which the connection is closed, as the
 * stream cannot be trusted any more.
 */
final class ServerHandler extends SimpleChannelInboundHandler<Frame> {
  /*
   * Concurrency: one handler per connection; its fields are touched on the connection's event loop
   *   only. Service futures may complete on any thread; the reply is written with writeAndFlush,
   *   which hands it to the event loop, and the in-flight count is decremented in the write's
   *   listener, which runs there too. The service is called on the event loop and must not block.
   * Ordering: requests are dispatched in arrival order; replies go out in completion order, matched
   *   by request id.
   * Back-pressure: at most maxInFlightPerConnection requests are with the service. Frames beyond
   *   that wait in a backlog, in arrival order, and reading from the socket stops until the backlog
   *   is empty again; so the backlog holds at most what one socket read decoded. Reading also
   *   stops while the channel is not writable (the client is not reading its replies).
   * Failure: a PUT whose length or CRC-32C is wrong is refused before the service sees it, so
   *   nothing is stored from a bad frame. The frame is released after channelRead0 on every path;
   *   a PUT's data reaches the service as a retained slice, which the service then owns.
   */
  private static final Logger log = LoggerFactory.getLogger(ServerHandler.class);

  private final TcpPeerTransport transport;
  private final PeerService service;
  private final int blockSize;
  private final int maxInFlight;
  private final ArrayDeque<Frame> backlog = new ArrayDeque<>();
  private boolean greeted;
  private boolean closing;
  private int inFlight;

  ServerHandler(TcpPeerTransport transport, PeerService service) {
    this.transport = transport;
    this.service = service;
    this.blockSize = transport.blockSize();
    this.maxInFlight = transport.config().maxInFlightPerConnection();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
    if (closing) {
      return;
    }
    if (!greeted) {
      greet(ctx, frame);
    } else if (inFlight >= maxInFlight || !backlog.isEmpty()) {
      backlog.add(frame.retain());
      updateReading(ctx);
    } else {
      handle(ctx, frame);
    }
  }

  /** Handles frames that waited for a free in-flight slot, in arrival order. */
  private void drainBacklog(ChannelHandlerContext ctx) {
    while (!closing && inFlight < maxInFlight && !backlog.isEmpty()) {
      Frame frame = backlog.poll();
      try {
        handle(ctx, frame);
      } finally {
        frame.release();
      }
    }
    updateReading(ctx);
  }

  private void handle(ChannelHandlerContext ctx, Frame frame) {
    int id = frame.requestId();
    ByteBuf body = frame.content();
    MessageType type = frame.type();
    try {
      if (type == null) {
        throw TorusExceptions.notSupported(String.format(
            "unknown message type 0x%02x; this node speaks protocol version %d",
            frame.typeCode(), Protocol.MAX_VERSION));
      }
      switch (type) {
        case PING -> ctx.writeAndFlush(Protocol.empty(ctx.alloc(), MessageType.PONG, id));
        case GET -> {
          BlockRef ref = Protocol.readRefBody(body, type);
          dispatch(ctx, id, () -> service.getBlock(ref), (alloc, data) -> blockReply(alloc, id,
              data, ref));
        }
        case PUT -> {
          BlockRef ref = Protocol.readPut(body, blockSize);
          ByteBuf data = Protocol.putData(body).retain();
          dispatch(ctx, id, () -> service.putBlock(ref, data), done(id));
        }
        case HAS -> {
          List<BlockRef> refs = Protocol.readHas(body);
          dispatch(ctx, id, () -> service.hasBlocks(refs),
              (alloc, bits) -> Protocol.bitset(alloc, id, bits, refs.size()));
        }
        case DELETE -> {
          BlockRef ref = Protocol.readRefBody(body, type);
          dispatch(ctx, id, () -> service.deleteBlock(ref), done(id));
        }
        case FLUSH -> {
          Protocol.readEmpty(body, type);
          dispatch(ctx, id, service::flush, done(id));
        }
        case HELLO -> throw new TorusException(ErrorCode.PROTOCOL, "HELLO sent twice");
        default -> throw new TorusException(ErrorCode.PROTOCOL,
            "message type " + type + " is a response, not a request");
      }
    } catch (TorusException e) {
      log.debug("refused request {} from {}: {}", frame, ctx.channel().remoteAddress(),
          e.getMessage());
      ctx.writeAndFlush(Protocol.error(ctx.alloc(), id, e.code(), e.getMessage()));
    }
  }

  private void greet(ChannelHandlerContext ctx, Frame frame) {
    if (frame.type() != MessageType.HELLO) {
      closeWith(ctx, ErrorCode.PROTOCOL, "expected HELLO to open the connection, got "
          + frame);
      return;
    }
    Protocol.Hello hello;
    try {
      hello = Protocol.readHello(frame.content());
    } catch (TorusException e) {
      closeWith(ctx, e.code(), e.getMessage());
      return;
    }
    int version = Math.min(hello.maxVersion(), Protocol.MAX_VERSION);
    if (version < Math.max(hello.minVersion(), Protocol.MIN_VERSION)) {
      closeWith(ctx, ErrorCode.PROTOCOL, "node " + hello.peer() + " speaks protocol versions "
          + hello.minVersion() + ".." + hello.maxVersion() + ", node " + transport.self()
          + " speaks " + Protocol.MIN_VERSION + ".." + Protocol.MAX_VERSION);
      return;
    }
    if (hello.blockSize() != blockSize) {
      closeWith(ctx, ErrorCode.INVALID_ARGUMENT, "block size mismatch: node " + hello.peer()
          + " uses " + hello.blockSize() + "-byte blocks, node " + transport.self() + " uses "
          + blockSize + "; peers must share their cluster's block size");
      return;
    }
    greeted = true;
    log.debug("peer connection from {} ({}) speaks version {}", hello.peer(),
        ctx.channel().remoteAddress(), version);
    ctx.writeAndFlush(Protocol.hello(ctx.alloc(), MessageType.HELLO_OK,
        new Protocol.Hello(version, version, blockSize, transport.self())));
  }

  private <T> void dispatch(ChannelHandlerContext ctx, int id, Supplier<CompletableFuture<T>> call,
      BiFunction<ByteBufAllocator, T, ByteBuf> encode) {
    inFlight++;
    updateReading(ctx);
    CompletableFuture<T> answer;
    try {
      answer = call.get();
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((value, error) -> {
      ByteBuf reply;
      if (error != null) {
        TorusException failure = TorusExceptions.unwrap(error);
        reply = Protocol.error(ctx.alloc(), id, failure.code(), failure.getMessage());
      } else {
        try {
          reply = encode.apply(ctx.alloc(), value);
        } catch (TorusException e) {
          reply = Protocol.error(ctx.alloc(), id, e.code(), e.getMessage());
        }
      }
      if (ctx.executor().isShuttingDown()) {
        reply.release();
        return;
      }
      ctx.writeAndFlush(reply).addListener(written -> {
        inFlight--;
        drainBacklog(ctx);
      });
    });
  }

  /** Encodes a GET's answer, taking ownership of the service's buffer. */
  private ByteBuf blockReply(ByteBufAllocator alloc, int id, ByteBuf data, BlockRef ref) {
    if (data.readableBytes() != blockSize) {
      int size = data.readableBytes();
      ReferenceCountUtil.release(data);
      throw TorusExceptions.internal("store returned " + size + " bytes for block " + ref
          + ", expected " + blockSize, null);
    }
    return Protocol.block(alloc, id, data);
  }

  private static BiFunction<ByteBufAllocator, Void, ByteBuf> done(int id) {
    return (alloc, nothing) -> Protocol.empty(alloc, MessageType.DONE, id);
  }

  private void updateReading(ChannelHandlerContext ctx) {
    boolean read = !closing && inFlight < maxInFlight && backlog.isEmpty()
        && ctx.channel().isWritable();
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
    }
  }

  /** Answers with a connection-level error and closes once it is written. */
  private void closeWith(ChannelHandlerContext ctx, ErrorCode code, String message) {
    if (closing) {
      return;
    }
    closing = true;
    updateReading(ctx);
    log.warn("closing peer connection from {}: {}", ctx.channel().remoteAddress(), message);
    ctx.writeAndFlush(Protocol.error(ctx.alloc(), Protocol.CONNECTION_ID, code, message))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    backlog.forEach(Frame::release);
    backlog.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    updateReading(ctx);
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent) {
      log.debug("closing peer connection from {}: nothing received for {}",
          ctx.channel().remoteAddress(), transport.config().idleTimeout());
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException && cause.getCause() instanceof TorusException e) {
      closeWith(ctx, e.code(), e.getMessage());
    } else if (cause instanceof IOException) {
      log.debug("peer connection from {} failed: {}", ctx.channel().remoteAddress(),
          cause.toString());
      ctx.close();
    } else {
      log.warn("peer connection from {} failed; closing it", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }
}
