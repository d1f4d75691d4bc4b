package dev.torus.nbd;

import dev.torus.TorusExceptions;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.Extent;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Serves a fixed map of caller-owned devices; see {@link ExportResolver#ofDevices}. */
final class SharedDeviceResolver implements ExportResolver {
  private final Map<String, BlockDevice> devices;

  SharedDeviceResolver(Map<String, BlockDevice> devices) {
    this.devices = new LinkedHashMap<>(devices);
  }

  @Override
  public CompletableFuture<List<ExportInfo>> list() {
    List<ExportInfo> infos = new ArrayList<>();
    devices.forEach((name, device) -> infos.add(info(name, device)));
    return CompletableFuture.completedFuture(infos);
  }

  @Override
  public CompletableFuture<ExportInfo> describe(String name) {
    BlockDevice device = devices.get(name);
    if (device == null) {
      return CompletableFuture.failedFuture(TorusExceptions.notFound("export '" + name + "'"));
    }
    return CompletableFuture.completedFuture(info(name, device));
  }

  @Override
  public CompletableFuture<BlockDevice> open(String name, boolean readOnly) {
    BlockDevice device = devices.get(name);
    if (device == null) {
      return CompletableFuture.failedFuture(TorusExceptions.notFound("export '" + name + "'"));
    }
    return CompletableFuture.completedFuture(new UnclosableView(device));
  }

  private static ExportInfo info(String name, BlockDevice device) {
    return new ExportInfo(name, "", device.size(), device.blockSize(), device.readOnly(), true);
  }

  /** A device whose close() leaves the shared device open. */
  private static final class UnclosableView implements BlockDevice {
    private final BlockDevice device;

    UnclosableView(BlockDevice device) {
      this.device = device;
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
      // The caller owns the shared device; a connection ending must not close it.
    }
  }
}
