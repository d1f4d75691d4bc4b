package dev.torus.bench;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.PeerId;
import dev.torus.VolumeId;
import dev.torus.internal.concurrent.Futures;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.transport.PeerClient;
import dev.torus.transport.PeerServer;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransportConfig;
import dev.torus.transport.tcp.TcpPeerTransport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * Put and get throughput and latency of the TCP peer transport over loopback, with one connection
 * and with several, against a server backed by {@code BlockStores.inMemory}; and of the same
 * store called directly, as the baseline.
 *
 * <p>Usage: {@code bench/run PeerTransportBench [seconds [concurrency [sizes]]]}, defaults {@code
 * 5 16 4096,524288,1048576}. Each case warms up for 2 s, then measures. TCP cases keep {@code
 * concurrency} calls outstanding (a closed loop); the direct store is called by one thread, one
 * call at a time, as its calls complete at once. Prints a Markdown table.
 */
public final class PeerTransportBench {
  private static final Duration WARMUP = Duration.ofSeconds(2);
  private static final long KEYS_BYTES = 64L << 20;
  private static final PeerId SERVER = new PeerId("bench-server");

  private PeerTransportBench() {}

  /** One measured case. */
  private record Result(String target, String op, int blockSize, long ops, double seconds,
      long[] latenciesNanos) {
    double opsPerSecond() {
      return ops / seconds;
    }

    double mbPerSecond() {
      return ops * (double) blockSize / seconds / 1e6;
    }

    double percentileMicros(double p) {
      int i = (int) Math.min(latenciesNanos.length - 1, Math.floor(p * latenciesNanos.length));
      return latenciesNanos[i] / 1e3;
    }
  }

  public static void main(String[] args) throws Exception {
    Duration measure = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 5);
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    int[] sizes = Arrays.stream((args.length > 2 ? args[2] : "4096,524288,1048576").split(","))
        .mapToInt(Integer::parseInt).toArray();
    List<Result> results = new ArrayList<>();
    for (int size : sizes) {
      results.addAll(direct(size, measure));
      results.addAll(tcp(size, 1, concurrency, measure));
      results.addAll(tcp(size, 4, concurrency, measure));
    }
    print(results, measure, concurrency);
  }

  private static int keys(int blockSize) {
    return (int) Math.max(16, KEYS_BYTES / blockSize);
  }

  private static BlockRef ref(long i) {
    return new BlockRef(new VolumeId(1), 1, i, BlockType.DATA);
  }

  private static ByteBuf pattern(int blockSize) {
    byte[] bytes = new byte[blockSize];
    new Random(blockSize).nextBytes(bytes);
    return ByteBufAllocator.DEFAULT.directBuffer(blockSize).writeBytes(bytes);
  }

  private static List<Result> direct(int blockSize, Duration measure) {
    int keys = keys(blockSize);
    try (BlockStore store = BlockStores.inMemory(blockSize, keys)) {
      ByteBuf data = pattern(blockSize);
      try {
        LongFunction<CompletableFuture<?>> put =
            i -> store.putBlock(ref(i % keys), data.retainedDuplicate());
        LongFunction<CompletableFuture<?>> get =
            i -> store.getBlock(ref(i % keys)).thenAccept(ByteBuf::release);
        Result puts = sequential("store direct", "put", blockSize, put, measure);
        Result gets = sequential("store direct", "get", blockSize, get, measure);
        return List.of(puts, gets);
      } finally {
        data.release();
      }
    }
  }

  private static List<Result> tcp(int blockSize, int connections, int concurrency,
      Duration measure) throws InterruptedException {
    int keys = keys(blockSize);
    PeerTransportConfig config = PeerTransportConfig.builder().connectionsPerPeer(connections)
        .maxInFlightPerConnection(Math.max(64, concurrency))
        .maxQueuedPerConnection(Math.max(128, concurrency)).build();
    String target = "TCP, " + connections + (connections == 1 ? " connection" : " connections");
    try (BlockStore store = BlockStores.inMemory(blockSize, keys);
        TcpPeerTransport serverNode = TcpPeerTransport.create(SERVER, blockSize, config,
            Runnable::run);
        TcpPeerTransport clientNode = TcpPeerTransport.create(new PeerId("bench-client"),
            blockSize, config, Runnable::run)) {
      PeerServer server = serverNode.serve(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), PeerService.of(store));
      PeerClient client = clientNode.client(SERVER, server.address().toString());
      ByteBuf data = pattern(blockSize);
      try {
        LongFunction<CompletableFuture<?>> put =
            i -> client.putBlock(ref(i % keys), data.retainedDuplicate());
        LongFunction<CompletableFuture<?>> get = i -> client.getBlock(ref(i % keys))
            .thenAccept(b -> {
              if (b.readableBytes() != blockSize) {
                throw new IllegalStateException("short block: " + b.readableBytes());
              }
              b.release();
            });
        Result puts = closedLoop(target, "put", blockSize, put, concurrency, measure);
        Result gets = closedLoop(target, "get", blockSize, get, concurrency, measure);
        return List.of(puts, gets);
      } finally {
        data.release();
      }
    }
  }

  /** One thread calling, one call at a time: for calls that complete at once. */
  private static Result sequential(String target, String op, int blockSize,
      LongFunction<CompletableFuture<?>> call, Duration measure) {
    long[] latencies = new long[1 << 16];
    long warmEnd = System.nanoTime() + WARMUP.toNanos();
    long i = 0;
    while (System.nanoTime() < warmEnd) {
      Futures.join(call.apply(i++));
    }
    int n = 0;
    long start = System.nanoTime();
    long end = start + measure.toNanos();
    long now = start;
    while (now < end) {
      Futures.join(call.apply(i++));
      long done = System.nanoTime();
      if (n == latencies.length) {
        latencies = Arrays.copyOf(latencies, n * 2);
      }
      latencies[n++] = done - now;
      now = done;
    }
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    return new Result(target, op, blockSize, n, (now - start) / 1e9, sorted);
  }

  /**
   * Keeps {@code concurrency} calls outstanding: each completion records its latency and issues
   * the next call, from the thread that completed it.
   */
  private static Result closedLoop(String target, String op, int blockSize,
      LongFunction<CompletableFuture<?>> call, int concurrency, Duration measure)
      throws InterruptedException {
    long start = System.nanoTime() + WARMUP.toNanos();
    long end = start + measure.toNanos();
    Chain[] chains = new Chain[concurrency];
    CountDownLatch finished = new CountDownLatch(concurrency);
    for (int c = 0; c < concurrency; c++) {
      chains[c] = new Chain(call, c, concurrency, start, end, finished);
      chains[c].next();
    }
    if (!finished.await(measure.plus(WARMUP).toSeconds() + 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(target + " " + op + ": calls did not finish");
    }
    long total = 0;
    for (Chain chain : chains) {
      if (chain.failure != null) {
        throw new IllegalStateException(target + " " + op + " failed", chain.failure);
      }
      total += chain.count;
    }
    long[] all = new long[(int) total];
    int at = 0;
    for (Chain chain : chains) {
      System.arraycopy(chain.latencies, 0, all, at, chain.count);
      at += chain.count;
    }
    Arrays.sort(all);
    return new Result(target, op, blockSize, total, measure.toNanos() / 1e9, all);
  }

  /** One outstanding call at a time; a chain's state is handed from completion to completion. */
  private static final class Chain {
    private final LongFunction<CompletableFuture<?>> call;
    private final int stride;
    private final long start;
    private final long end;
    private final CountDownLatch finished;
    private long next;
    private long[] latencies = new long[1 << 12];
    private int count;
    private Throwable failure;

    Chain(LongFunction<CompletableFuture<?>> call, int first, int stride, long start, long end,
        CountDownLatch finished) {
      this.call = call;
      this.next = first;
      this.stride = stride;
      this.start = start;
      this.end = end;
      this.finished = finished;
    }

    void next() {
      long issued = System.nanoTime();
      call.apply(next).whenComplete((v, e) -> {
        long done = System.nanoTime();
        if (e != null) {
          failure = e;
          finished.countDown();
          return;
        }
        // Only calls issued and completed inside the window count, so its ops/s is exact.
        if (issued >= start && done <= end) {
          if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
          }
          latencies[count++] = done - issued;
        }
        if (done >= end) {
          finished.countDown();
        } else {
          next += stride;
          next();
        }
      });
    }
  }

  private static void print(List<Result> results, Duration measure, int concurrency) {
    System.out.printf(Locale.ROOT, "%n%d s per case after %d s warm-up; TCP keeps %d calls "
        + "outstanding, the direct store is called by one thread.%n%n", measure.toSeconds(),
        WARMUP.toSeconds(), concurrency);
    System.out.println("| block | op | target | ops/s | MB/s | p50 µs | p99 µs | vs direct |");
    System.out.println("|---:|---|---|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      Result base = results.stream().filter(b -> b.blockSize() == r.blockSize()
          && b.op().equals(r.op()) && b.target().equals("store direct")).findFirst().orElse(r);
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %,.0f | %,.1f | %,.0f | %,.0f | %.2f |%n",
          size(r.blockSize()), r.op(), r.target(), r.opsPerSecond(), r.mbPerSecond(),
          r.percentileMicros(0.50), r.percentileMicros(0.99),
          r.mbPerSecond() / base.mbPerSecond());
    }
  }

  private static String size(int bytes) {
    return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
  }
}
