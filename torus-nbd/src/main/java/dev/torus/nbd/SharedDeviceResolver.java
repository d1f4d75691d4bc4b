package dev.torus.nbd;

import dev.torus.TorusExceptions;
import dev.torus.volume.BlockDevice;
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
    return CompletableFuture.completedFuture(new DeviceView(device, () -> {}));
  }

  private static ExportInfo info(String name, BlockDevice device) {
    return new ExportInfo(name, "", device.size(), device.blockSize(), device.readOnly(), true);
  }
}
