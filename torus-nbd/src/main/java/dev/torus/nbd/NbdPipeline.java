package dev.torus.nbd;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;

/** Builds the channel pipelines for the two protocol phases. */
final class NbdPipeline {
  private static final String TLS = "nbd-tls";
  private static final String FLUSH = "nbd-flush";
  private static final String DECODER = "nbd-decoder";
  private static final String ENCODER = "nbd-encoder";
  private static final String HANDLER = "nbd-handler";

  private NbdPipeline() {}

  /** A new connection that starts with the handshake. */
  static void handshake(ChannelPipeline pipeline, ServerContext server) {
    ReceiveBuffers.install(pipeline.channel().config());
    pipeline.addLast(DECODER, new HandshakeDecoder());
    pipeline.addLast(HANDLER, new HandshakeHandler(server));
  }

  /** Encrypts everything from now on, under every other handler (STARTTLS). */
  static void startTls(ChannelPipeline pipeline, SslContext tls) {
    pipeline.addFirst(TLS, tls.newHandler(pipeline.channel().alloc()));
  }

  /** A connection that starts directly in transmission (the kernel's socket). */
  static void transmission(ChannelPipeline pipeline, Export export, int maxInFlight,
      NbdStats stats) {
    pipeline.addLast(FLUSH, flushConsolidation());
    RequestDecoder decoder = requestDecoder(export);
    ReceiveBuffers.install(pipeline.channel().config()).attach(decoder);
    pipeline.addLast(DECODER, decoder);
    pipeline.addLast(ENCODER, new ReplyEncoder(export.style()));
    pipeline.addLast(HANDLER, new TransmissionHandler(export, maxInFlight, stats));
  }

  /**
   * Replaces the handshake handlers with the transmission ones. The decoder goes last: Netty hands
   * the bytes it still buffers (requests sent right after the final option) to its replacement.
   */
  static void switchToTransmission(ChannelPipeline pipeline, Export export, int maxInFlight,
      NbdStats stats) {
    boolean tls = pipeline.get(TLS) != null;
    if (tls) {
      pipeline.addAfter(TLS, FLUSH, flushConsolidation()); // consolidates the plaintext flushes
    } else {
      pipeline.addFirst(FLUSH, flushConsolidation());
    }
    pipeline.replace(HANDLER, HANDLER, new TransmissionHandler(export, maxInFlight, stats));
    pipeline.addBefore(HANDLER, ENCODER, new ReplyEncoder(export.style()));
    RequestDecoder decoder = requestDecoder(export);
    ReceiveBuffers buffers = ReceiveBuffers.of(pipeline.channel().config());
    if (buffers != null && !tls) { // under TLS the socket's bytes are ciphertext, for TLS alone
      buffers.attach(decoder);
    }
    pipeline.replace(DECODER, DECODER, decoder);
  }

  private static RequestDecoder requestDecoder(Export export) {
    return new RequestDecoder(export.style() == ReplyStyle.EXTENDED, export.maxPayload(),
        export.device().blockSize(), export.device().bufferAllocator(), RequestDecoder.READ_SIZE);
  }

  /**
   * Replies written while requests are being read, or in the same turn of the event loop, share
   * one flush: under load that saves a system call per reply.
   */
  private static FlushConsolidationHandler flushConsolidation() {
    return new FlushConsolidationHandler(
        FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true);
  }
}
