/**
 * The library's front door: {@link dev.torus.client.Torus} opens a {@link
 * dev.torus.client.TorusClient} that wires metadata, storage and the network, so an application
 * opens a volume in a few lines.
 */
@NullMarked
package dev.torus.client;

import org.jspecify.annotations.NullMarked;
