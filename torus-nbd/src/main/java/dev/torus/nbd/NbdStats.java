package dev.torus.nbd;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * What one server has done, counted for its metrics: connections, requests by command, error
 * replies by error, and bytes read and written. All the server's connections share one instance,
 * on several event loops, so every count is a {@link LongAdder}.
 */
final class NbdStats {
  private final LongAdder accepted = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  /** By {@link NbdCommand#ordinal()}; the last counts command codes the spec does not define. */
  private final LongAdder[] requests = adders(NbdCommand.values().length + 1);
  private final LongAdder[] errors = adders(NbdError.values().length);
  private final LongAdder readBytes = new LongAdder();
  private final LongAdder writtenBytes = new LongAdder();

  private static LongAdder[] adders(int n) {
    LongAdder[] a = new LongAdder[n];
    for (int i = 0; i < n; i++) {
      a[i] = new LongAdder();
    }
    return a;
  }

  void accepted() {
    accepted.increment();
  }

  /** A connection closed because its client broke the protocol. */
  void dropped() {
    dropped.increment();
  }

  void request(@Nullable NbdCommand command) {
    requests[command == null ? requests.length - 1 : command.ordinal()].increment();
  }

  void failed(NbdError error) {
    errors[error.ordinal()].increment();
  }

  void read(long bytes) {
    readBytes.add(bytes);
  }

  void written(long bytes) {
    writtenBytes.add(bytes);
  }

  /** Registers the counts as {@code torus_nbd_*} meters. */
  void bindTo(MeterRegistry registry) {
    counter("torus_nbd_connections_accepted", accepted,
        "connections accepted, handshake or not").register(registry);
    counter("torus_nbd_connections_dropped", dropped,
        "connections closed because the client broke the protocol").register(registry);
    for (NbdCommand c : NbdCommand.values()) {
      counter("torus_nbd_requests", requests[c.ordinal()], "requests received")
          .tag("command", c.name().toLowerCase(Locale.ROOT)).register(registry);
    }
    counter("torus_nbd_requests", requests[requests.length - 1], "requests received")
        .tag("command", "unknown").register(registry);
    for (NbdError e : NbdError.values()) {
      counter("torus_nbd_error_replies", errors[e.ordinal()],
          "requests answered with an error").tag("error", e.name()).register(registry);
    }
    counter("torus_nbd_read", readBytes, "bytes read by clients").baseUnit("bytes")
        .register(registry);
    counter("torus_nbd_written", writtenBytes, "bytes written by clients")
        .baseUnit("bytes").register(registry);
  }

  private static FunctionCounter.Builder<LongAdder> counter(
      String name, LongAdder count, String description) {
    return FunctionCounter.builder(name, count, LongAdder::sum).description(description);
  }
}
