package dev.torus.cli;

import dev.torus.server.options.ConnectionOptions;
/** Opens the connections a command needs; tests substitute in-memory ones. */
@FunctionalInterface
public interface ClientFactory {
  CliSession open(ConnectionOptions options);
}
