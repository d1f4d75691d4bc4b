package dev.torus.nbd;

import static dev.torus.nbd.NbdProtocol.NBD_REP_ERR_INVALID;

import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.nbd.HandshakeDecoder.ClientFlags;
import dev.torus.nbd.HandshakeDecoder.Option;
import dev.torus.nbd.OptionParser.ExportRequest;
import dev.torus.nbd.OptionParser.MetaContextRequest;
import dev.torus.nbd.OptionParser.OptionException;
import dev.torus.volume.BlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the fixed-newstyle handshake: greets, checks the client flags, answers
 * options, switches the connection to TLS on {@code NBD_OPT_STARTTLS} when the server has it, and
 * on {@code NBD_OPT_GO} or {@code NBD_OPT_EXPORT_NAME} opens the export and switches the channel
 * to transmission.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
  /*
   * Concurrency:
   *   Confined to the channel's event loop. Options that need the ExportResolver (LIST, INFO, GO,
   *   EXPORT_NAME, the META_CONTEXT options) wait for its future without blocking: reading pauses,
   *   options that arrive meanwhile (clients must not send them, but may) queue, and the answer is
   *   written on the loop when the future completes.
   *
   * Ordering:
   *   Options are answered strictly one after the other, in arrival order, as the spec's
   *   one-option-at-a-time rule implies.
   *
   * Failure:
   *   An unknown option gets NBD_REP_ERR_UNSUP, malformed data NBD_REP_ERR_INVALID, oversized data
   *   NBD_REP_ERR_TOO_BIG, and parsing goes on. With TLS required, every option but STARTTLS and
   *   ABORT gets NBD_REP_ERR_TLS_REQD until TLS is on. Unknown client flags, a bad option magic,
   *   EXPORT_NAME that cannot be served (it has no error reply; before required TLS neither), a
   *   failed TLS handshake and the handshake timeout end the connection. Once the server is
   *   closing, every option but ABORT gets NBD_REP_ERR_SHUTDOWN. A device opened for a client
   *   that vanished is given back.
   */

  private static final Logger log = LoggerFactory.getLogger(HandshakeHandler.class);

  private static final int KNOWN_CLIENT_FLAGS =
      NbdProtocol.NBD_FLAG_C_FIXED_NEWSTYLE | NbdProtocol.NBD_FLAG_C_NO_ZEROES;

  private final ServerContext server;
  private final NbdServerConfig config;
  private final ArrayDeque<Object> queued = new ArrayDeque<>();
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ScheduledFuture<?> timeout;
  private boolean noZeroes;
  private ReplyStyle style = ReplyStyle.SIMPLE;
  /** The export whose base:allocation context is selected, or null. */
  private @Nullable String metaContextExport;
  /** Waiting for the resolver: later options queue. */
  private boolean busy;
  /** Transmission entered or the connection is ending: no more options are handled. */
  private boolean finished;
  /** STARTTLS succeeded: every later byte is encrypted. */
  private boolean tlsOn;

  HandshakeHandler(ServerContext server) {
    this.server = server;
    this.config = server.config();
  }

  /** An export opened for GO or EXPORT_NAME, with the action that gives it back. */
  private record Opened(ExportInfo info, BlockDevice device, Runnable release) {}

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(OptionReplies.greeting(ctx.alloc()));
    timeout =
        ctx.executor()
            .schedule(
                () -> {
                  log.debug("{}: handshake not finished within {}; closing", ctx.channel(),
                      config.handshakeTimeout());
                  ctx.close();
                },
                config.handshakeTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    finish();
    dropQueued();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (busy) {
      queued.add(msg);
    } else {
      process(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("{}: connection failed during handshake: {}", ctx.channel(), cause.toString());
    } else {
      log.info("{}: closing during handshake: {}", ctx.channel(), cause.toString());
      server.stats().dropped();
    }
    ctx.close();
  }

  private void process(Object msg) {
    if (finished) {
      releaseMessage(msg);
    } else if (msg instanceof ClientFlags flags) {
      clientFlags(flags.flags());
    } else if (msg instanceof Option option) {
      try {
        option(option);
      } finally {
        ReferenceCountUtil.release(option.data());
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void clientFlags(int flags) {
    if ((flags & ~KNOWN_CLIENT_FLAGS) != 0) {
      // The spec leaves no choice: unknown client flags mean the server must drop the connection.
      log.info("{}: unknown client flags 0x{}; closing", context().channel(),
          Integer.toHexString(flags));
      hangUp();
      return;
    }
    noZeroes = (flags & NbdProtocol.NBD_FLAG_C_NO_ZEROES) != 0;
  }

  private void option(Option request) {
    int code = request.code();
    NbdOption option = NbdOption.fromCode(code);
    ByteBuf data = request.data();
    if (log.isTraceEnabled()) {
      log.trace("{}: option {} ({} bytes)", context().channel(),
          option == null ? code : option, request.length());
    }
    if (option == NbdOption.EXPORT_NAME
        && (data == null || style == ReplyStyle.EXTENDED || server.shuttingDown()
            || tlsRequired())) {
      // EXPORT_NAME has no error reply, and extended headers forbid it: all we can do is hang up.
      log.info("{}: refusing NBD_OPT_EXPORT_NAME; closing", context().channel());
      hangUp();
      return;
    }
    if (data == null) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_TOO_BIG,
          "option data of " + request.length() + " bytes is longer than "
              + HandshakeDecoder.MAX_OPTION_DATA));
      return;
    }
    if (server.shuttingDown() && option != NbdOption.ABORT) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_SHUTDOWN,
          "server is shutting down"));
      return;
    }
    if (tlsRequired() && option != NbdOption.STARTTLS && option != NbdOption.ABORT) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_TLS_REQD,
          "this server requires TLS: send NBD_OPT_STARTTLS first"));
      return;
    }
    if (option == null) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_UNSUP,
          "option " + code + " is not supported"));
      return;
    }
    try {
      switch (option) {
        case ABORT -> abort();
        case LIST -> list(data);
        case STARTTLS -> startTls(data);
        case INFO, GO -> exportInfo(option, OptionParser.exportRequest(data));
        case EXPORT_NAME -> exportName(OptionParser.wholeString(data, "export name"));
        case STRUCTURED_REPLY -> structuredReply(data);
        case EXTENDED_HEADERS -> extendedHeaders(data);
        case LIST_META_CONTEXT, SET_META_CONTEXT -> metaContext(option, data);
      }
    } catch (OptionException e) {
      if (option == NbdOption.EXPORT_NAME) {
        log.info("{}: invalid NBD_OPT_EXPORT_NAME: {}; closing", context().channel(),
            e.getMessage());
        hangUp();
      } else {
        reply(OptionReplies.error(alloc(), code, e.replyType(), String.valueOf(e.getMessage())));
      }
    }
  }

  private void abort() {
    finished = true;
    context().writeAndFlush(OptionReplies.ack(alloc(), NbdOption.ABORT.code()))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private boolean tlsRequired() {
    NbdTls tls = config.tls();
    return tls != null && tls.required() && !tlsOn;
  }

  /**
   * Acknowledges, then puts TLS under the pipeline: the acknowledgement is on its way in the clear
   * by then, and the client sends its TLS hello only after reading it. Negotiation starts afresh.
   */
  private void startTls(ByteBuf data) throws OptionException {
    int code = NbdOption.STARTTLS.code();
    SslContext tls = server.tls();
    if (tls == null) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_UNSUP,
          "this server has no TLS configured"));
      return;
    }
    requireNoData(data);
    if (tlsOn) {
      throw new OptionException(NBD_REP_ERR_INVALID, "TLS is already on");
    }
    tlsOn = true;
    style = ReplyStyle.SIMPLE;
    metaContextExport = null;
    reply(OptionReplies.ack(alloc(), code));
    NbdPipeline.startTls(context().pipeline(), tls);
  }

  private void list(ByteBuf data) throws OptionException {
    requireNoData(data);
    int code = NbdOption.LIST.code();
    await(
        server.resolver().list(),
        exports -> {
          for (ExportInfo e : exports) {
            write(OptionReplies.server(alloc(), e.name(), description(e)));
          }
          reply(OptionReplies.ack(alloc(), code));
        },
        error -> lookupFailed(code, "the export list", error),
        exports -> {});
  }

  private void structuredReply(ByteBuf data) throws OptionException {
    requireNoData(data);
    int code = NbdOption.STRUCTURED_REPLY.code();
    if (style == ReplyStyle.EXTENDED) {
      reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_EXT_HEADER_REQD,
          "extended headers are already negotiated"));
      return;
    }
    style = ReplyStyle.STRUCTURED;
    reply(OptionReplies.ack(alloc(), code));
  }

  private void extendedHeaders(ByteBuf data) throws OptionException {
    requireNoData(data);
    style = ReplyStyle.EXTENDED;
    reply(OptionReplies.ack(alloc(), NbdOption.EXTENDED_HEADERS.code()));
  }

  private void metaContext(NbdOption option, ByteBuf data) throws OptionException {
    boolean set = option == NbdOption.SET_META_CONTEXT;
    if (set) {
      // SET replaces the selection even when it fails.
      metaContextExport = null;
    }
    if (style == ReplyStyle.SIMPLE) {
      throw new OptionException(NBD_REP_ERR_INVALID,
          "negotiate structured replies or extended headers first");
    }
    MetaContextRequest request = OptionParser.metaContextRequest(data);
    String name = canonical(request.name());
    List<String> queries = request.queries();
    // LIST with no query lists everything; "base:" is the namespace wildcard, valid for LIST only.
    boolean selected =
        queries.contains(NbdProtocol.BASE_ALLOCATION)
            || (!set && (queries.isEmpty() || queries.contains("base:")));
    int code = option.code();
    await(
        server.resolver().describe(name),
        info -> {
          if (selected) {
            write(OptionReplies.metaContext(alloc(), code,
                set ? NbdProtocol.BASE_ALLOCATION_ID : 0, NbdProtocol.BASE_ALLOCATION));
            if (set) {
              metaContextExport = name;
            }
          }
          reply(OptionReplies.ack(alloc(), code));
        },
        error -> lookupFailed(code, "export '" + name + "'", error),
        info -> {});
  }

  private void exportInfo(NbdOption option, ExportRequest request) {
    String name = canonical(request.name());
    int code = option.code();
    if (option == NbdOption.INFO) {
      await(
          server.resolver().describe(name),
          info -> {
            boolean readOnly = config.readOnly() || info.readOnly();
            sendInfos(code, request.infos(), info, info.size(), info.blockSize(),
                Export.transmissionFlags(readOnly, info.multiConn(), style));
            reply(OptionReplies.ack(alloc(), code));
          },
          error -> lookupFailed(code, "export '" + name + "'", error),
          info -> {});
      return;
    }
    await(
        open(name),
        opened -> {
          if (server.shuttingDown()) {
            // Started closing while the export opened: connections in transmission already
            // got the shutdown event, so this one must not enter it.
            opened.release().run();
            reply(OptionReplies.error(alloc(), code, NbdProtocol.NBD_REP_ERR_SHUTDOWN,
                "server is shutting down"));
            return;
          }
          int flags = flags(opened);
          BlockDevice device = opened.device();
          sendInfos(code, request.infos(), opened.info(), device.size(), device.blockSize(),
              flags);
          write(OptionReplies.ack(alloc(), code));
          enterTransmission(name, opened, flags);
        },
        error -> lookupFailed(code, "export '" + name + "'", error),
        opened -> opened.release().run());
  }

  private void exportName(String requested) {
    String name = canonical(requested);
    await(
        open(name),
        opened -> {
          if (server.shuttingDown()) {
            opened.release().run();
            hangUp();
            return;
          }
          int flags = flags(opened);
          write(OptionReplies.exportName(alloc(), opened.device().size(), flags, noZeroes));
          enterTransmission(name, opened, flags);
        },
        error -> {
          log.info("{}: cannot serve export '{}' to NBD_OPT_EXPORT_NAME: {}; closing",
              context().channel(), name, TorusExceptions.unwrap(error).getMessage());
          hangUp();
        },
        opened -> opened.release().run());
  }

  private CompletableFuture<Opened> open(String name) {
    ExportResolver resolver = server.resolver();
    return resolver
        .describe(name)
        .thenCompose(
            info ->
                resolver
                    .open(name, config.readOnly() || info.readOnly())
                    .thenApply(device -> new Opened(info, device, server.track(device))));
  }

  private int flags(Opened opened) {
    boolean readOnly =
        config.readOnly() || opened.info().readOnly() || opened.device().readOnly();
    return Export.transmissionFlags(readOnly, opened.info().multiConn(), style);
  }

  private void sendInfos(
      int code, List<Integer> infos, ExportInfo info, long size, int blockSize, int flags) {
    write(OptionReplies.infoExport(alloc(), code, size, flags));
    if (infos.contains(NbdProtocol.NBD_INFO_NAME)) {
      write(OptionReplies.infoString(alloc(), code, NbdProtocol.NBD_INFO_NAME, info.name()));
    }
    String description = description(info);
    if (infos.contains(NbdProtocol.NBD_INFO_DESCRIPTION) && !description.isEmpty()) {
      write(OptionReplies.infoString(alloc(), code, NbdProtocol.NBD_INFO_DESCRIPTION,
          description));
    }
    if (infos.contains(NbdProtocol.NBD_INFO_BLOCK_SIZE)) {
      // Any alignment works (the device is byte-addressed); preferred is the device's block size
      // as a power of two from 512 up to the maximum payload, as the spec requires.
      int preferred =
          Integer.highestOneBit(Math.min(Math.max(blockSize, 512), config.maxPayload()));
      write(OptionReplies.infoBlockSize(alloc(), code, 1, preferred, config.maxPayload()));
    }
  }

  private void enterTransmission(String name, Opened opened, int flags) {
    finish();
    ChannelHandlerContext ctx = context();
    boolean blockStatus = name.equals(metaContextExport);
    Export export = new Export(name, opened.device(), flags, style, blockStatus,
        config.maxPayload(), opened.release());
    log.debug("{}: serving export '{}' (flags 0x{}, {} replies)", ctx.channel(), name,
        Integer.toHexString(flags), style);
    ctx.flush();
    if (!queued.isEmpty()) {
      // Options sent after GO, before its answer: the client broke the protocol.
      log.info("{}: data after the final option; closing", ctx.channel());
      dropQueued();
      ctx.channel().close();
    }
    NbdPipeline.switchToTransmission(ctx.pipeline(), export, config.maxInFlight(), server.stats());
  }

  private void lookupFailed(int code, String what, Throwable error) {
    TorusException e = TorusExceptions.unwrap(error);
    int type =
        switch (e.code()) {
          case LOCKED -> NbdProtocol.NBD_REP_ERR_POLICY;
          case CLOSED -> NbdProtocol.NBD_REP_ERR_SHUTDOWN;
          default -> NbdProtocol.NBD_REP_ERR_UNKNOWN;
        };
    log.debug("{}: {} is not available: {}", context().channel(), what, e.getMessage());
    reply(OptionReplies.error(alloc(), code, type, what + " is not available: " + e.getMessage()));
  }

  /**
   * Waits for {@code future} without blocking: pauses reading, then on the event loop runs {@code
   * onSuccess} or {@code onFailure} and resumes with any queued options. A result that can no
   * longer be used (the client left, the loop stopped) goes to {@code discard}.
   */
  private <T> void await(
      CompletableFuture<T> future,
      Consumer<T> onSuccess,
      Consumer<Throwable> onFailure,
      Consumer<T> discard) {
    ChannelHandlerContext ctx = context();
    busy = true;
    ctx.channel().config().setAutoRead(false);
    EventExecutor loop = ctx.executor();
    future.whenComplete(
        (value, error) -> {
          Runnable resume = () -> resume(value, error, onSuccess, onFailure, discard);
          if (loop.inEventLoop()) {
            resume.run();
            return;
          }
          try {
            loop.execute(resume);
          } catch (RejectedExecutionException e) {
            if (value != null) {
              discard.accept(value);
            }
          }
        });
  }

  private <T> void resume(
      @Nullable T value,
      @Nullable Throwable error,
      Consumer<T> onSuccess,
      Consumer<Throwable> onFailure,
      Consumer<T> discard) {
    busy = false;
    ChannelHandlerContext ctx = context();
    if (!ctx.channel().isActive()) {
      if (value != null) {
        discard.accept(value);
      }
      return;
    }
    if (error != null || value == null) {
      onFailure.accept(error != null ? error : new IllegalStateException("no result"));
    } else {
      onSuccess.accept(value);
    }
    ctx.channel().config().setAutoRead(true);
    while (!busy && !finished && !queued.isEmpty()) {
      process(queued.poll());
    }
  }

  private void dropQueued() {
    queued.forEach(HandshakeHandler::releaseMessage);
    queued.clear();
  }

  /** Releases a decoded message that will not be handled; options own their data. */
  private static void releaseMessage(Object msg) {
    if (msg instanceof Option option) {
      ReferenceCountUtil.release(option.data());
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void requireNoData(ByteBuf data) throws OptionException {
    if (data.isReadable()) {
      throw new OptionException(NBD_REP_ERR_INVALID,
          "this option takes no data, got " + data.readableBytes() + " bytes");
    }
  }

  /** Maps the empty name to the configured default export. */
  private String canonical(String name) {
    String fallback = config.defaultExport();
    return name.isEmpty() && fallback != null ? fallback : name;
  }

  private String description(ExportInfo info) {
    return info.description().isEmpty() ? config.description() : info.description();
  }

  private void hangUp() {
    finish();
    context().close();
  }

  private void finish() {
    finished = true;
    ScheduledFuture<?> t = timeout;
    if (t != null) {
      t.cancel(false);
    }
  }

  private void write(ByteBuf reply) {
    context().write(reply);
  }

  private void reply(ByteBuf reply) {
    context().writeAndFlush(reply);
  }

  private ByteBufAllocator alloc() {
    return context().alloc();
  }

  private ChannelHandlerContext context() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      throw new IllegalStateException("handler not added to a pipeline");
    }
    return c;
  }
}
