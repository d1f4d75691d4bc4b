package dev.torus.metadata;

/** A running watch; {@link #close()} stops it. Idempotent. */
public interface Subscription extends AutoCloseable {
  @Override
  void close();
}
