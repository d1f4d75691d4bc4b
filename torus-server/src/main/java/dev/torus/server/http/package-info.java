/** The node's HTTP status endpoints, on the JDK's built-in HTTP server. */
@NullMarked
package dev.torus.server.http;

import org.jspecify.annotations.NullMarked;
