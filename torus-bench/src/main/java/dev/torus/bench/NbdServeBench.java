package dev.torus.bench;

import dev.torus.DataSize;
import dev.torus.nbd.ExportResolver;
import dev.torus.nbd.NbdServer;
import dev.torus.nbd.NbdServerConfig;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.ModelBlockDevice;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Serves one in-memory device over NBD until killed, for {@code bench/nbd-fio.sh}:
 *
 * <pre>
 * bench/run NbdServeBench [--port 10809] [--size 1GiB] [--block-size 4096] [--export bench]
 *                         [--unix PATH] [--io-threads N]
 * </pre>
 *
 * <p>The export is also the default one, so {@code nbd://127.0.0.1:PORT} works. The device is the
 * test model ({@link ModelBlockDevice}): it measures the server, not a volume.
 */
public final class NbdServeBench {
  private NbdServeBench() {}

  public static void main(String[] args) throws InterruptedException {
    NbdServerConfig.Builder config = NbdServerConfig.builder();
    long size = DataSize.ofGibibytes(1).bytes();
    int blockSize = 4096;
    String export = "bench";
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--port" -> config.port(Integer.parseInt(value));
        case "--size" -> size = DataSize.parse(value).bytes();
        case "--block-size" -> blockSize = Math.toIntExact(DataSize.parse(value).bytes());
        case "--export" -> export = value;
        case "--unix" -> config.unixSocket(Path.of(value));
        case "--io-threads" -> config.ioThreads(Integer.parseInt(value));
        default -> {
          System.err.println("unknown option " + args[i] + "; see the class comment for usage");
          System.exit(2);
        }
      }
      i++;
    }
    BlockDevice device = new ModelBlockDevice(size, blockSize);
    NbdServer server =
        NbdServer.start(config.defaultExport(export).build(),
            ExportResolver.ofDevices(Map.of(export, device)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    System.out.println("serving " + DataSize.ofBytes(size) + " as '" + export + "' on nbd://"
        + server.boundAddress().getHostString() + ":" + server.boundAddress().getPort() + "/"
        + export);
    stopped.await();
  }
}
