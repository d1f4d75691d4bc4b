/**
 * The embedded metadata store: the {@link dev.torus.metadata.MetadataService} in one SQLite file,
 * crash-safe and shared by the processes of one host. {@link
 * dev.torus.metadata.embedded.EmbeddedMetadata} opens it.
 */
@NullMarked
package dev.torus.metadata.embedded;

import org.jspecify.annotations.NullMarked;
