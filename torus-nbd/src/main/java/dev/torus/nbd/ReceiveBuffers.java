package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One connection's socket-read buffers: those the channel would use, except where the
 * transmission decoder wants the bytes in a buffer of its own ({@link
 * RequestDecoder#receiveBuffer()}). Installed when the channel is created, because a channel
 * keeps the read handle it first made; the decoder is attached when transmission starts.
 */
final class ReceiveBuffers implements RecvByteBufAllocator {
  private final RecvByteBufAllocator channelDefault;
  private @Nullable RequestDecoder decoder; // set and read on the channel's event loop

  private ReceiveBuffers(RecvByteBufAllocator channelDefault) {
    this.channelDefault = channelDefault;
  }

  /** Puts a new instance in front of the channel's current read buffers. */
  static ReceiveBuffers install(ChannelConfig config) {
    ReceiveBuffers buffers = new ReceiveBuffers(config.getRecvByteBufAllocator());
    config.setRecvByteBufAllocator(buffers);
    return buffers;
  }

  /** The channel's instance, if it has one. */
  static @Nullable ReceiveBuffers of(ChannelConfig config) {
    return config.getRecvByteBufAllocator() instanceof ReceiveBuffers b ? b : null;
  }

  void attach(RequestDecoder decoder) {
    this.decoder = decoder;
  }

  @Override
  public ExtendedHandle newHandle() {
    return new DecoderFirst((ExtendedHandle) channelDefault.newHandle());
  }

  /** Netty's transports require an extended handle; everything but allocation is delegated. */
  private final class DecoderFirst extends DelegatingHandle implements ExtendedHandle {
    DecoderFirst(ExtendedHandle delegate) {
      super(delegate);
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      RequestDecoder d = decoder;
      ByteBuf own = d == null ? null : d.receiveBuffer();
      return own != null ? own : super.allocate(alloc);
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
    }
  }
}
