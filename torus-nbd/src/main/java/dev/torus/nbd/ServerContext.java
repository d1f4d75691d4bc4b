package dev.torus.nbd;

import dev.torus.volume.BlockDevice;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What all connections of one server share: configuration, the export resolver, the closing flag,
 * TLS, the counts behind its metrics, and the devices connections opened, which it closes on an
 * executor of its own because closing a writable volume commits and may block.
 *
 * <p>Thread-safe.
 */
final class ServerContext {
  private static final Logger log = LoggerFactory.getLogger(ServerContext.class);

  private final NbdServerConfig config;
  private final ExportResolver resolver;
  private final Executor closer;
  private final NbdStats stats = new NbdStats();
  private final @Nullable SslContext tls;
  private final Map<Object, BlockDevice> open = new ConcurrentHashMap<>();
  private final Set<CompletableFuture<Void>> closing = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;

  ServerContext(NbdServerConfig config, ExportResolver resolver, Executor closer,
      @Nullable SslContext tls) {
    this.config = config;
    this.resolver = resolver;
    this.closer = closer;
    this.tls = tls;
  }

  NbdServerConfig config() {
    return config;
  }

  ExportResolver resolver() {
    return resolver;
  }

  NbdStats stats() {
    return stats;
  }

  /** What STARTTLS switches a connection to, from {@link NbdServerConfig#tls()}; null without. */
  @Nullable SslContext tls() {
    return tls;
  }

  /** Whether the server is closing: new options and requests get ERR_SHUTDOWN / ESHUTDOWN. */
  boolean shuttingDown() {
    return shuttingDown;
  }

  void startShutdown() {
    shuttingDown = true;
  }

  /**
   * Registers a device a connection opened and returns the action that gives it back: the first
   * run closes the device on the closer executor, later runs do nothing.
   */
  Runnable track(BlockDevice device) {
    Object token = new Object();
    open.put(token, device);
    return () -> {
      BlockDevice d = open.remove(token);
      if (d != null) {
        CompletableFuture<Void> f = CompletableFuture.runAsync(() -> closeQuietly(d), closer);
        closing.add(f);
        f.whenComplete((v, e) -> closing.remove(f));
      }
    };
  }

  /**
   * Closes the devices still open (their connections' event loops are gone) and waits up to
   * {@code timeout} for every close to finish.
   */
  void closeAll(Duration timeout) {
    for (Object token : List.copyOf(open.keySet())) {
      BlockDevice d = open.remove(token);
      if (d != null) {
        closing.add(CompletableFuture.runAsync(() -> closeQuietly(d), closer));
      }
    }
    CompletableFuture<Void> all =
        CompletableFuture.allOf(closing.toArray(CompletableFuture<?>[]::new));
    try {
      all.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      log.warn("{} exports still closing after {}; giving up waiting", closing.size(), timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // closeQuietly never fails
    }
  }

  private static void closeQuietly(BlockDevice device) {
    try {
      device.close();
    } catch (RuntimeException e) {
      log.warn("closing an export failed: {}", e.toString(), e);
    }
  }
}
