package dev.torus.nbd;

import dev.torus.volume.BlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;

/**
 * Writes zeroes chunk by chunk, one write after the other: WRITE_ZEROES with NO_HOLE, where the
 * client wants the range allocated, so the device's hole-punching {@code writeZeroes} will not do.
 * Loops instead of recursing while writes complete synchronously, so a long range cannot overflow
 * the stack.
 */
final class ZeroWriter {
  /** Size of each zero write. */
  private static final int CHUNK = 1 << 20;

  /** Shared zeroes; devices may "release" it freely. */
  private static final ByteBuf ZEROES =
      Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[CHUNK]).asReadOnly());

  private final BlockDevice device;
  private final CompletableFuture<Void> result = new CompletableFuture<>();
  private final long end;
  private long position;

  private ZeroWriter(BlockDevice device, long offset, long length) {
    this.device = device;
    this.position = offset;
    this.end = offset + length;
  }

  /** Writes zeroes over [offset, offset + length); completes when all writes did. */
  static CompletableFuture<Void> write(BlockDevice device, long offset, long length) {
    ZeroWriter writer = new ZeroWriter(device, offset, length);
    writer.next();
    return writer.result;
  }

  private void next() {
    while (position < end) {
      int n = (int) Math.min(CHUNK, end - position);
      long at = position;
      position += n;
      CompletableFuture<Void> write =
          TransmissionHandler.guarded(() -> device.write(at, ZEROES.slice(0, n)));
      if (!write.isDone() || write.isCompletedExceptionally()) {
        write.whenComplete(
            (v, e) -> {
              if (e != null) {
                result.completeExceptionally(e);
              } else {
                next();
              }
            });
        return;
      }
    }
    result.complete(null);
  }
}
