/**
 * The in-process peer transport: {@link dev.torus.transport.local.LocalTransport}, with failure
 * hooks for tests of the distributor and the rebalancer.
 */
@NullMarked
package dev.torus.transport.local;

import org.jspecify.annotations.NullMarked;
