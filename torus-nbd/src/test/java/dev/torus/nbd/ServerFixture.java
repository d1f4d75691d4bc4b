package dev.torus.nbd;

import dev.torus.volume.BlockDevice;
import dev.torus.volume.ModelBlockDevice;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * An {@link NbdServer} on a free loopback port serving model devices whose operations complete on
 * a pool of their own, as a real volume's would: "disk" (writable), "ro" (read-only), both 16 MiB
 * with 4 KiB blocks and both the default description "model".
 */
final class ServerFixture implements AutoCloseable {
  static final long SIZE = 16 << 20;
  static final int BLOCK = 4096;

  final ExecutorService deviceThreads = Executors.newFixedThreadPool(2);
  final ModelBlockDevice disk = new ModelBlockDevice(SIZE, BLOCK, false, deviceThreads);
  final ModelBlockDevice ro = new ModelBlockDevice(SIZE, BLOCK, true, deviceThreads);
  final TrackingResolver exports;
  final NbdServer server;

  ServerFixture() {
    this(config -> {});
  }

  ServerFixture(Consumer<NbdServerConfig.Builder> customize) {
    this(customize, NbdTransport.best());
  }

  ServerFixture(Consumer<NbdServerConfig.Builder> customize, NbdTransport transport) {
    Map<String, BlockDevice> devices = new LinkedHashMap<>();
    devices.put("disk", disk);
    devices.put("ro", ro);
    exports = new TrackingResolver(ExportResolver.ofDevices(devices));
    NbdServerConfig.Builder config = NbdServerConfig.builder().port(0).ioThreads(2)
        .description("model");
    customize.accept(config);
    server = NbdServer.start(config.build(), exports, transport);
  }

  SocketAddress address() {
    return server.boundAddress();
  }

  NbdTestClient open(String export, NbdTestClient.Mode mode) {
    return NbdTestClient.open(address(), export, mode);
  }

  @Override
  public void close() {
    server.close();
    deviceThreads.shutdownNow();
  }
}
