package dev.torus.nbd;

import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_DF;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_FAST_ZERO;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_FUA;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_NO_HOLE;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_PAYLOAD_LEN;
import static dev.torus.nbd.NbdProtocol.NBD_CMD_FLAG_REQ_ONE;

import dev.torus.TorusExceptions;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.Extent;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves transmission requests of one connection against its {@link Export}'s device.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {
  /*
   * Concurrency:
   *   Every field is confined to the channel's event loop. Requests are validated on the loop and
   *   handed to the device, whose futures complete on any thread; completion hops back to the loop
   *   before touching state or writing. Nothing here blocks.
   *
   * Ordering:
   *   Requests run concurrently and each reply is written when its request completes, so replies go
   *   out in completion order (the spec allows any order). FLUSH and FUA rely on the device
   *   contract: a flush covers every write that completed before it started, and a request counts
   *   as completed before its reply is written, so everything the client saw acknowledged before
   *   sending FLUSH is covered. A FUA reply is written only after the flush that follows its write
   *   completed.
   *
   * Flow control:
   *   A request is in flight from decoding until its reply was handed to the socket. Above
   *   maxInFlight requests, or twice the maximum payload in bytes, the handler stops reading from
   *   the socket, so a fast client or a slow reader cannot make the server buffer without bound.
   *
   * Failure:
   *   Every request except DISC gets exactly one reply. Invalid requests fail with the spec's error
   *   (EINVAL, ENOSPC, EPERM, EOVERFLOW, ENOTSUP); device failures are mapped by NbdError#from;
   *   after the server starts closing, new requests fail with ESHUTDOWN. DISC stops reading, lets
   *   in-flight requests finish and closes. When the connection ends for any reason the export is
   *   released once its last in-flight request completed, and replies of requests that complete
   *   after the client vanished are discarded, releasing their buffers.
   */

  private static final Logger log = LoggerFactory.getLogger(TransmissionHandler.class);

  /**
   * Largest range one BLOCK_STATUS looks at (the length is a hint and clients ask again): 2 GiB
   * keeps every descriptor within 32 bits; extended headers carry 64-bit descriptors, so large
   * holes can be reported at once.
   */
  static final long MAX_STATUS_SPAN = 1L << 31;

  static final long MAX_EXTENDED_STATUS_SPAN = 1L << 40;

  /** Most descriptors in one BLOCK_STATUS reply. */
  static final int MAX_STATUS_EXTENTS = 1 << 16;

  /** The event the server fires into every connection when it starts closing. */
  static final Object SHUTDOWN = new Object() {
    @Override
    public String toString() {
      return "NBD server shutdown";
    }
  };

  private final Export export;
  private final BlockDevice device;
  private final int maxInFlight;
  private final long maxInFlightBytes;
  private final NbdStats stats;
  private @Nullable ChannelHandlerContext ctx;
  private int inFlight;
  private long inFlightBytes;
  private boolean disconnecting;
  private boolean shuttingDown;
  private boolean released;

  TransmissionHandler(Export export, int maxInFlight, NbdStats stats) {
    this.export = export;
    this.device = export.device();
    this.maxInFlight = maxInFlight;
    this.stats = stats;
    this.maxInFlightBytes = 2L * export.maxPayload();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof NbdRequest request) {
      handle(request);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event == SHUTDOWN) {
      shuttingDown = true;
      closeWhenDrained();
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    log.debug("{}: connection to export '{}' closed with {} requests in flight",
        ctx.channel(), export.name(), inFlight);
    releaseWhenDrained();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("{}: connection to export '{}' failed: {}", ctx.channel(), export.name(),
          cause.toString());
    } else {
      log.info("{}: closing connection to export '{}': {}", ctx.channel(), export.name(),
          cause.toString());
      stats.dropped();
    }
    ctx.close();
  }

  private void handle(NbdRequest request) {
    ChannelHandlerContext ctx = context();
    NbdCommand command = NbdCommand.fromCode(request.type());
    if (log.isTraceEnabled()) {
      log.trace("{}: {} flags=0x{} cookie=0x{} offset={} length={}", ctx.channel(),
          command == null ? "type " + request.type() : command,
          Integer.toHexString(request.flags()), Long.toHexString(request.cookie()),
          request.offset(), request.length());
    }
    if (disconnecting) {
      ReferenceCountUtil.release(request.payload());
      return;
    }
    stats.request(command);
    if (command == NbdCommand.DISC) {
      disconnecting = true;
      ctx.channel().config().setAutoRead(false);
      closeWhenDrained();
      return;
    }
    long cost = cost(command, request);
    inFlight++;
    inFlightBytes += cost;
    IdlePolling.UnderWay.ofCurrentThread().started(); // tells the loop whether to poll
    if (inFlight >= maxInFlight || inFlightBytes >= maxInFlightBytes) {
      ctx.channel().config().setAutoRead(false);
    }
    CompletableFuture<NbdReply> reply;
    if (shuttingDown) {
      ReferenceCountUtil.release(request.payload());
      reply = failed(request, NbdError.ESHUTDOWN, "server is shutting down");
    } else {
      reply = guarded(() -> dispatch(command, request));
    }
    EventExecutor loop = ctx.executor();
    reply.whenComplete(
        (r, error) -> {
          if (loop.inEventLoop()) {
            complete(request, cost, r, error);
            return;
          }
          try {
            loop.execute(() -> complete(request, cost, r, error));
          } catch (RejectedExecutionException e) {
            // The server stopped its event loops; it releases the export itself.
            if (r != null) {
              r.discard();
            }
          }
        });
  }

  /** Starts the request; validation failures and their payloads end here, device failures later. */
  private CompletableFuture<NbdReply> dispatch(@Nullable NbdCommand command, NbdRequest request) {
    int unknownFlags = command == null ? 0 : request.flags() & ~allowedFlags(command);
    if (command != NbdCommand.WRITE || unknownFlags != 0) {
      // Only a valid WRITE hands its payload on; any other payload ends here.
      ReferenceCountUtil.release(request.payload());
    }
    if (command == null) {
      return invalid(request, "unknown command type " + request.type());
    }
    if (unknownFlags != 0) {
      return invalid(request, "flags 0x" + Integer.toHexString(unknownFlags) + " are not valid for "
          + command);
    }
    return switch (command) {
      case READ -> read(request);
      case WRITE -> write(request);
      case FLUSH -> done(request, device.flush());
      case TRIM -> trim(request);
      case CACHE -> cache(request);
      case WRITE_ZEROES -> writeZeroes(request);
      case BLOCK_STATUS -> blockStatus(request);
      case DISC -> throw new IllegalStateException("DISC is handled before dispatch");
    };
  }

  private int allowedFlags(NbdCommand command) {
    int allowed = command.allowedFlags();
    if (export.style() == ReplyStyle.SIMPLE) {
      allowed &= ~NBD_CMD_FLAG_DF;
    }
    if (command == NbdCommand.WRITE && export.style() == ReplyStyle.EXTENDED) {
      allowed |= NBD_CMD_FLAG_PAYLOAD_LEN;
    }
    return allowed;
  }

  private CompletableFuture<NbdReply> read(NbdRequest request) {
    if (request.length() > export.maxPayload() || request.length() < 0) {
      return request.hasFlag(NBD_CMD_FLAG_DF)
          ? failed(request, NbdError.EOVERFLOW,
              "read of " + request.length() + " bytes is too long for one chunk")
          : invalid(request, "read longer than the maximum " + export.maxPayload() + " bytes");
    }
    if (!inRange(request)) {
      return invalid(request, outOfRange(request));
    }
    if (request.length() == 0) {
      return CompletableFuture.completedFuture(
          new NbdReply.Read(request.cookie(), request.offset(), List.of()));
    }
    int length = (int) request.length();
    CompletableFuture<ByteBuf> data = checkedRead(request.offset(), length);
    if (export.style() == ReplyStyle.SIMPLE || request.hasFlag(NBD_CMD_FLAG_DF)) {
      return data.thenApply(
          buf -> new NbdReply.Read(request.cookie(), request.offset(),
              List.of(new NbdReply.Segment(request.offset(), length, buf))));
    }
    // Holes only save bandwidth, so a device that cannot tell falls back to plain data.
    CompletableFuture<@Nullable List<Extent>> extents =
        guarded(() -> device.allocation(request.offset(), length)).exceptionally(e -> null);
    return data.thenCombine(
        extents,
        (buf, ext) -> new NbdReply.Read(request.cookie(), request.offset(),
            ReadSegments.split(buf, request.offset(), length, ext)));
  }

  private CompletableFuture<ByteBuf> checkedRead(long offset, int length) {
    return guarded(() -> device.read(offset, length))
        .thenApply(
            buf -> {
              if (buf.readableBytes() != length) {
                int got = buf.readableBytes();
                buf.release();
                throw TorusExceptions.internal(
                    "device returned " + got + " bytes for a read of " + length, null);
              }
              return buf;
            });
  }

  private CompletableFuture<NbdReply> write(NbdRequest request) {
    ByteBuf payload = request.payload();
    if (export.readOnly()) {
      ReferenceCountUtil.release(payload);
      return failed(request, NbdError.EPERM, "export is read-only");
    }
    if (payload == null) {
      if (request.length() == 0) {
        return CompletableFuture.completedFuture(done(request));
      }
      return invalid(request, export.style() == ReplyStyle.EXTENDED
          && !request.hasFlag(NBD_CMD_FLAG_PAYLOAD_LEN)
          ? "write without NBD_CMD_FLAG_PAYLOAD_LEN"
          : "write longer than the maximum " + export.maxPayload() + " bytes");
    }
    if (!inRange(request)) {
      payload.release();
      return failed(request, NbdError.ENOSPC, outOfRange(request));
    }
    int[] blockCrcs = request.blockCrcs();
    return fua(request, guarded(() -> blockCrcs == null
        ? device.write(request.offset(), payload)
        : device.write(request.offset(), payload, blockCrcs)));
  }

  private CompletableFuture<NbdReply> trim(NbdRequest request) {
    if (export.readOnly()) {
      return failed(request, NbdError.EPERM, "export is read-only");
    }
    if (!inRange(request)) {
      return invalid(request, outOfRange(request));
    }
    if (request.length() == 0) {
      return CompletableFuture.completedFuture(done(request));
    }
    return fua(request, guarded(() -> device.trim(request.offset(), request.length())));
  }

  private CompletableFuture<NbdReply> cache(NbdRequest request) {
    if (request.length() > export.maxPayload()) {
      return invalid(request, "cache longer than the maximum " + export.maxPayload() + " bytes");
    }
    if (!inRange(request)) {
      return invalid(request, outOfRange(request));
    }
    // Advisory: the device has no prefetch, and success promises nothing about speed.
    return CompletableFuture.completedFuture(done(request));
  }

  private CompletableFuture<NbdReply> writeZeroes(NbdRequest request) {
    if (export.readOnly()) {
      return failed(request, NbdError.EPERM, "export is read-only");
    }
    if (!inRange(request)) {
      return failed(request, NbdError.ENOSPC, outOfRange(request));
    }
    boolean noHole = request.hasFlag(NBD_CMD_FLAG_NO_HOLE);
    if (noHole && request.hasFlag(NBD_CMD_FLAG_FAST_ZERO)) {
      // Without holes zeroing means writing zeroes: no faster than a write, so say so at once.
      return failed(request, NbdError.ENOTSUP, "zeroing without holes is not faster than writing");
    }
    if (request.length() == 0) {
      return CompletableFuture.completedFuture(done(request));
    }
    CompletableFuture<Void> op =
        noHole
            ? ZeroWriter.write(device, request.offset(), request.length())
            : guarded(() -> device.writeZeroes(request.offset(), request.length()));
    return fua(request, op);
  }

  private CompletableFuture<NbdReply> blockStatus(NbdRequest request) {
    if (!export.blockStatus()) {
      return invalid(request, "no metadata context was selected");
    }
    if (request.length() <= 0 || !inRange(request)) {
      return invalid(request, outOfRange(request));
    }
    long span = Math.min(request.length(),
        export.style() == ReplyStyle.EXTENDED ? MAX_EXTENDED_STATUS_SPAN : MAX_STATUS_SPAN);
    boolean one = request.hasFlag(NBD_CMD_FLAG_REQ_ONE);
    return guarded(() -> device.allocation(request.offset(), span))
        .thenApply(
            extents -> new NbdReply.Status(request.cookie(), request.offset(),
                NbdProtocol.BASE_ALLOCATION_ID, StatusExtents.of(request.offset(), span, extents,
                    one ? 1 : MAX_STATUS_EXTENTS)));
  }

  /** Follows a write with a flush when the client asked for FUA; replies after both. */
  private CompletableFuture<NbdReply> fua(NbdRequest request, CompletableFuture<Void> op) {
    CompletableFuture<Void> durable =
        request.hasFlag(NBD_CMD_FLAG_FUA) ? op.thenCompose(v -> device.flush()) : op;
    return done(request, durable);
  }

  private static CompletableFuture<NbdReply> done(NbdRequest request, CompletableFuture<Void> op) {
    return op.thenApply(v -> done(request));
  }

  private static NbdReply done(NbdRequest request) {
    return new NbdReply.Done(request.cookie(), request.offset());
  }

  private static CompletableFuture<NbdReply> failed(
      NbdRequest request, NbdError error, String message) {
    return CompletableFuture.completedFuture(
        new NbdReply.Failed(request.cookie(), request.offset(), error, message));
  }

  private static CompletableFuture<NbdReply> invalid(NbdRequest request, String message) {
    return failed(request, NbdError.EINVAL, message);
  }

  private boolean inRange(NbdRequest request) {
    long size = device.size();
    return request.offset() >= 0
        && request.length() >= 0
        && request.offset() <= size - request.length();
  }

  private String outOfRange(NbdRequest request) {
    return "range " + Long.toUnsignedString(request.offset()) + "+"
        + Long.toUnsignedString(request.length()) + " is outside the export (size "
        + device.size() + ")";
  }

  /** Runs a device call; a call that throws instead of returning a failed future fails the same. */
  static <T> CompletableFuture<T> guarded(Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Bytes a request holds while in flight: its payload, or the data it will read. */
  private long cost(@Nullable NbdCommand command, NbdRequest request) {
    ByteBuf payload = request.payload();
    long bytes = payload == null ? 0 : payload.readableBytes();
    if (command == NbdCommand.READ) {
      bytes += Math.max(0, Math.min(request.length(), export.maxPayload()));
    }
    return bytes;
  }

  /** On the event loop: writes the reply (or drops it if the client is gone) and settles counts. */
  private void complete(
      NbdRequest request, long cost, @Nullable NbdReply reply, @Nullable Throwable error) {
    // On the loop's thread, as the start was. A reply waiting for the socket needs no other thread.
    IdlePolling.UnderWay.ofCurrentThread().answered();
    ChannelHandlerContext ctx = context();
    NbdReply answer = reply;
    if (answer == null) {
      Throwable cause = error == null ? new IllegalStateException("no reply") : error;
      NbdError code = NbdError.from(cause);
      String message = TorusExceptions.unwrap(cause).getMessage();
      log.trace("{}: request cookie=0x{} failed with {}: {}", ctx.channel(),
          Long.toHexString(request.cookie()), code, message);
      answer = new NbdReply.Failed(request.cookie(), request.offset(), code,
          message == null ? code.name() : message);
    }
    count(request, answer);
    if (!ctx.channel().isActive()) {
      answer.discard();
      settle(cost);
      return;
    }
    ctx.writeAndFlush(answer).addListener(f -> settle(cost));
  }

  private void count(NbdRequest request, NbdReply answer) {
    if (answer instanceof NbdReply.Failed failed) {
      stats.failed(failed.error());
    } else if (request.type() == NbdCommand.READ.code()) {
      stats.read(request.length());
    } else if (request.type() == NbdCommand.WRITE.code()) {
      stats.written(request.length());
    }
  }

  private void settle(long cost) {
    inFlight--;
    inFlightBytes -= cost;
    ChannelHandlerContext ctx = context();
    if (!disconnecting
        && ctx.channel().isActive()
        && inFlight < maxInFlight
        && inFlightBytes < maxInFlightBytes
        && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
    if (ctx.channel().isActive()) {
      closeWhenDrained();
    } else {
      releaseWhenDrained();
    }
  }

  private void closeWhenDrained() {
    if (inFlight == 0 && (disconnecting || shuttingDown)) {
      context().close();
    }
  }

  private void releaseWhenDrained() {
    if (inFlight == 0 && !released) {
      released = true;
      export.release().run();
    }
  }

  private ChannelHandlerContext context() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      throw new IllegalStateException("handler not added to a pipeline");
    }
    return c;
  }
}
