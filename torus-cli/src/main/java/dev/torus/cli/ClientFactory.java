package dev.torus.cli;

import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.DataPathOptions;
/** Opens the connections a command needs; tests substitute in-memory ones. */
@FunctionalInterface
public interface ClientFactory {
  CliSession open(ConnectionOptions connection, DataPathOptions dataPath);
}
