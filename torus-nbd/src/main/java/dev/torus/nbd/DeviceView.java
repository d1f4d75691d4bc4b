package dev.torus.nbd;

import dev.torus.volume.BlockDevice;
import dev.torus.volume.Extent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One connection's handle on a device that several connections share: every call goes to the
 * device, and {@link #close()} runs {@code onClose} once instead of closing it.
 */
final class DeviceView implements BlockDevice {
  private final BlockDevice device;
  private final Runnable onClose;
  private final AtomicBoolean closed = new AtomicBoolean();

  DeviceView(BlockDevice device, Runnable onClose) {
    this.device = device;
    this.onClose = onClose;
  }

  @Override
  public long size() {
    return device.size();
  }

  @Override
  public int blockSize() {
    return device.blockSize();
  }

  @Override
  public ByteBufAllocator bufferAllocator() {
    return device.bufferAllocator();
  }

  @Override
  public boolean readOnly() {
    return device.readOnly();
  }

  @Override
  public CompletableFuture<ByteBuf> read(long offset, int length) {
    return device.read(offset, length);
  }

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data) {
    return device.write(offset, data);
  }

  @Override
  public CompletableFuture<Void> write(long offset, ByteBuf data, int[] blockCrcs) {
    return device.write(offset, data, blockCrcs);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return device.flush();
  }

  @Override
  public CompletableFuture<Void> trim(long offset, long length) {
    return device.trim(offset, length);
  }

  @Override
  public CompletableFuture<Void> writeZeroes(long offset, long length) {
    return device.writeZeroes(offset, length);
  }

  @Override
  public CompletableFuture<List<Extent>> allocation(long offset, long length) {
    return device.allocation(offset, length);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      onClose.run();
    }
  }
}
