package dev.torus.cli.ctl;

import dev.torus.DataSize;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import dev.torus.volume.BlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Streams a whole device to or from a byte stream in 1 MiB chunks with a few requests in flight,
 * optionally printing progress once a second.
 */
final class DataCopy {
  static final int CHUNK = 1 << 20;
  static final int IN_FLIGHT = 8;

  private final PrintWriter progress;
  private final boolean show;
  private final long total;
  private final long start = System.nanoTime();
  private long lastPrint = start;

  DataCopy(PrintWriter progress, boolean show, long total) {
    this.progress = progress;
    this.show = show;
    this.total = total;
  }

  /** Copies the device to {@code out}; returns the bytes copied. */
  long dump(BlockDevice device, OutputStream out) throws IOException {
    Deque<CompletableFuture<ByteBuf>> reads = new ArrayDeque<>();
    long next = 0;
    long done = 0;
    try {
      while (done < total) {
        while (next < total && reads.size() < IN_FLIGHT) {
          int n = (int) Math.min(CHUNK, total - next);
          reads.add(device.read(next, n));
          next += n;
        }
        ByteBuf buf = Futures.join(reads.poll());
        try {
          int n = buf.readableBytes();
          buf.readBytes(out, n);
          done += n;
        } finally {
          buf.release();
        }
        report(done);
      }
      out.flush();
      return done;
    } finally {
      reads.forEach(f -> f.thenAccept(ByteBuf::release));
    }
  }

  /** Writes {@code in} to the device from offset 0 until EOF; returns the bytes copied. */
  long load(InputStream in, BlockDevice device) throws IOException {
    Deque<CompletableFuture<Void>> writes = new ArrayDeque<>();
    long offset = 0;
    while (true) {
      byte[] chunk = in.readNBytes(CHUNK);
      if (chunk.length == 0) {
        break;
      }
      if (offset + chunk.length > device.size()) {
        throw TorusExceptions.invalid("the input is larger than the volume (" + device.size() + " bytes)");
      }
      writes.add(device.write(offset, Unpooled.wrappedBuffer(chunk)));
      offset += chunk.length;
      if (writes.size() >= IN_FLIGHT) {
        Futures.join(writes.poll());
      }
      report(offset);
    }
    writes.forEach(Futures::join);
    return offset;
  }

  private void report(long done) {
    long now = System.nanoTime();
    if (!show || (now - lastPrint < 1_000_000_000L && done < total)) {
      return;
    }
    lastPrint = now;
    double seconds = Math.max(1e-9, (now - start) / 1e9);
    progress.printf(Locale.ROOT, "\r%s of %s (%.1f MiB/s)   ", DataSize.ofBytes(done),
        DataSize.ofBytes(total), done / seconds / (1 << 20));
    if (done >= total) {
      progress.println();
    }
    progress.flush();
  }
}
