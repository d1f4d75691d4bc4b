package dev.torus.cli.blk;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.TorusExceptions;
import dev.torus.cli.CliSession;
import dev.torus.cli.TorusBlk;
import dev.torus.nbd.NbdKernelDevice;
import dev.torus.volume.BlockVolume;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code torusblk nbd VOLUME [/dev/nbdX]} and {@code torusblk nbd --detach DEV}. */
@Command(name = "nbd",
    description = "Attach a volume to a Linux /dev/nbdX until SIGINT or SIGTERM (needs root and the nbd"
        + " kernel module), or --detach a device a crashed torusblk left behind.")
public final class NbdAttachCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "VOLUME")
  @Nullable String volume;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NBD-DEVICE",
      description = "e.g. /dev/nbd0 (default: the first free one)")
  @Nullable Path device;

  @Option(names = {"-d", "--detach"}, paramLabel = "DEVICE", description = "disconnect this device and exit")
  @Nullable Path detach;

  @Override
  public Integer call() throws InterruptedException {
    if (detach != null) {
      if (volume != null) {
        throw TorusExceptions.invalid("--detach takes only the device, no volume");
      }
      NbdKernelDevice.detach(detach);
      spec.commandLine().getOut().println("Detached " + detach);
      return 0;
    }
    if (volume == null) {
      throw TorusExceptions.invalid("name the VOLUME to attach, or use --detach DEVICE");
    }
    NbdKernelDevice.checkAvailable(device); // before the volume's lock is taken
    CountDownLatch stopped = new CountDownLatch(1);
    try (CliSession s = ((TorusBlk) spec.root().userObject()).open();
        BlockVolume v = join(s.cluster().volumes().openWritable(volume));
        NbdKernelDevice kernel = NbdKernelDevice.attach(v, device)) {
      // On SIGINT/SIGTERM: disconnect, then hold the JVM until this thread has committed.
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        kernel.close();
        try {
          stopped.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "nbd-detach"));
      spec.commandLine().getOut().println("Attached volume " + volume + " to " + kernel.path()
          + "; stop with Ctrl-C or 'torusblk nbd --detach " + kernel.path() + "'");
      spec.commandLine().getOut().flush();
      join(kernel.disconnected());
    } finally {
      stopped.countDown();
    }
    return 0;
  }
}
