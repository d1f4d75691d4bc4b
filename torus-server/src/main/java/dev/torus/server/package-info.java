/**
 * {@code torusd}, the storage node: {@link dev.torus.server.TorusDaemon} parses flags into a
 * {@link dev.torus.server.ServerConfig}; {@link dev.torus.server.TorusServer} is the composition
 * root that wires the core's parts, starts them in order and stops them in reverse.
 */
@NullMarked
package dev.torus.server;

import org.jspecify.annotations.NullMarked;
