package dev.torus.cli;

import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Opens the connections a command needs; tests substitute in-memory ones. */
@FunctionalInterface
public interface ClientFactory {
  /** A session whose cluster client reports its meters to {@code meters}. */
  CliSession open(ConnectionOptions connection, DataPathOptions dataPath, MeterRegistry meters);

  /** A session for a command that exports no meters. */
  default CliSession open(ConnectionOptions connection, DataPathOptions dataPath) {
    return open(connection, dataPath, new SimpleMeterRegistry());
  }
}
