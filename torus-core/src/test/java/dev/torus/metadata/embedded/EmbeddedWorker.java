package dev.torus.metadata.embedded;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.VolumeId;
import dev.torus.metadata.LeaseKeeper;
import dev.torus.metadata.MetadataService;
import dev.torus.metadata.Versioned;
import dev.torus.metadata.VolumeInfo;
import dev.torus.metadata.VolumeLock;
import dev.torus.metadata.VolumeRoot;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A child process of {@link EmbeddedMultiProcessIT}: works on a shared metadata file through the
 * public API and prints one line per acknowledged change, so the parent knows exactly what was
 * acknowledged before it looks at the file (or kills this process).
 *
 * <p>Arguments: {@code FILE WORKER-ID COUNT CREATE}: COUNT times, create a volume named
 * {@code WORKER-ID-i} if CREATE is true ("created NAME ID"), then add one to the size of volume
 * {@code shared} under its write lock ("ack NEW-SIZE").
 */
final class EmbeddedWorker {
  /** The lease TTL of a worker: how long a killed worker keeps the lock. */
  static final Duration LEASE_TTL = Duration.ofSeconds(3);

  private EmbeddedWorker() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    String id = args[1];
    int count = Integer.parseInt(args[2]);
    boolean create = Boolean.parseBoolean(args[3]);
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
    try (MetadataService m = EmbeddedMetadata.open(file, Clock.systemUTC(), scheduler);
        LeaseKeeper keeper = join(LeaseKeeper.start(m.leases(), LEASE_TTL, scheduler,
            System::nanoTime))) {
      VolumeId shared = join(m.volumes().get("shared")).id();
      for (int i = 1; i <= count; i++) {
        if (create) {
          VolumeInfo v = join(m.volumes().create(id + "-" + i, VolumeRoot.empty(1, 1)));
          print("created " + v.name() + " " + v.id().value());
        }
        print("ack " + increment(m, shared, keeper, id));
      }
    } finally {
      scheduler.shutdownNow();
    }
  }

  /** Adds one to the shared volume's size under its lock; returns the new size. */
  static long increment(MetadataService m, VolumeId shared, LeaseKeeper keeper, String owner)
      throws InterruptedException {
    while (true) {
      VolumeLock lock;
      try {
        lock = join(m.volumes().lock(shared, keeper.leaseId(), owner));
      } catch (TorusException e) {
        if (e.code() != ErrorCode.LOCKED) {
          throw e;
        }
        Thread.sleep(1);
        continue;
      }
      try {
        Versioned<VolumeRoot> root = join(m.volumes().root(shared));
        long next = root.value().size() + 1;
        keeper.checkValid();
        join(m.volumes().commit(lock, root.revision(), VolumeRoot.empty(next, 1)));
        return next;
      } finally {
        join(m.volumes().unlock(lock));
      }
    }
  }

  private static void print(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
