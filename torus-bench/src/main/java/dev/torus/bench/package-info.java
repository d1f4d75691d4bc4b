/**
 * Benchmarks behind {@code docs/benchmarks.md}: JMH benchmarks and bench commands, one main class
 * per measurement, run with {@code bench/run}.
 */
@NullMarked
package dev.torus.bench;

import org.jspecify.annotations.NullMarked;
