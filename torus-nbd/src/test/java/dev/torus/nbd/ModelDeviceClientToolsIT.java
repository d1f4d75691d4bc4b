package dev.torus.nbd;

import dev.torus.volume.BlockDevice;
import dev.torus.volume.ModelBlockDevice;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The client tools against the model device. The model object outlives the servers a test
 * starts, so data written before a restart is there after it. Its operations complete on a pool,
 * as a real volume's would.
 */
@ExtendWith(NoLeaks.class)
final class ModelDeviceClientToolsIT implements NbdClientToolsContract {
  private final ExecutorService deviceThreads = Executors.newFixedThreadPool(2);

  @Override
  public ExportResolver exports(String name, long size) {
    return ExportResolver.ofDevices(Map.<String, BlockDevice>of(name,
        new ModelBlockDevice(size, 4096, false, deviceThreads)));
  }

  @AfterEach
  void stopDeviceThreads() {
    deviceThreads.shutdownNow();
  }
}
