package dev.torus.volume;

import static dev.torus.internal.concurrent.Futures.join;

import dev.torus.DataSize;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.client.Torus;
import dev.torus.client.TorusClient;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The child process of {@link VolumeCrashIT}: writes 4 KiB units of one volume in batches and
 * flushes after each, reporting on stdout, until it is killed. Every unit's content names the unit
 * and a generation, so the parent can tell exactly which write it reads back.
 *
 * <p>Report lines: {@code W unit gen} for each acknowledged write, {@code F k} just before the
 * k-th flush starts, {@code D k} once it returned.
 */
public final class VolumeCrashWorkload {
  static final int UNIT = 4096;
  static final int UNITS = 2048; // an 8 MiB volume
  static final String VOLUME = "crash";

  private VolumeCrashWorkload() {}

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    long seed = Long.parseLong(args[1]);
    long firstGen = Long.parseLong(args[2]);
    SplittableRandom random = new SplittableRandom(seed);
    VolumeConfig config = VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO)
        .withDirtyLimit(DataSize.ofKibibytes(512)).withLeaseTtl(Duration.ofSeconds(2));
    try (TorusClient torus = Torus.local(dir, DataSize.ofMebibytes(256), config)) {
      try {
        join(torus.catalog().create(VOLUME, (long) UNIT * UNITS));
      } catch (TorusException e) {
        if (e.code() != ErrorCode.ALREADY_EXISTS) {
          throw e;
        }
      }
      try (BlockVolume v = openWhenTheDeadWriterIsGone(torus)) {
        System.out.println("OPEN");
        long gen = firstGen;
        for (int batch = 1; ; batch++) {
          int writes = 1 + random.nextInt(64);
          for (int i = 0; i < writes; i++) {
            int unit = random.nextInt(UNITS);
            join(v.write((long) unit * UNIT, Unpooled.wrappedBuffer(content(unit, ++gen))));
            System.out.println("W " + unit + " " + gen);
          }
          System.out.println("F " + batch);
          join(v.flush());
          System.out.println("D " + batch);
        }
      }
    }
  }

  /** The killed predecessor's lock lives until its lease expires; a restarted writer waits. */
  private static BlockVolume openWhenTheDeadWriterIsGone(TorusClient torus) {
    while (true) {
      try {
        return join(torus.volumes().openWritable(VOLUME));
      } catch (TorusException e) {
        if (e.code() != ErrorCode.LOCKED) {
          throw e;
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** A unit's bytes for one generation: its number and the generation, then filler from both. */
  static byte[] content(int unit, long gen) {
    byte[] b = new byte[UNIT];
    ByteBuffer.wrap(b).putInt(unit).putLong(gen);
    new SplittableRandom(gen * 31 + unit).nextBytes(b);
    ByteBuffer.wrap(b).putInt(unit).putLong(gen);
    return b;
  }
}
