package dev.torus.transport;

import dev.torus.DataSize;
import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of a {@link PeerTransport}: deadlines, limits and connection handling. Immutable; build
 * variations with {@link #toBuilder()}. The deadlines apply to every implementation; the rest
 * shapes the TCP transport's connections.
 *
 * @param connectTimeout how long connecting to a peer, handshake included, may take
 * @param readTimeout deadline of {@code getBlock} and {@code hasBlocks}
 * @param writeTimeout deadline of {@code putBlock} and {@code deleteBlock}
 * @param flushTimeout deadline of {@code flush}, which waits for the peer's disk
 * @param maxFrameSize the largest frame body accepted; larger frames are a protocol error. Must
 *     hold a block plus its header, checked when a transport is made for a block size
 * @param maxInFlightPerConnection requests sent on one connection and not yet answered; more wait
 * @param maxQueuedPerConnection requests waiting for one connection; beyond that calls fail at once
 *     with {@code UNAVAILABLE} (each queued put holds its block in memory)
 * @param connectionsPerPeer connections opened to each peer; calls go to the least loaded
 * @param keepAliveInterval a client pings a peer after this long without traffic
 * @param idleTimeout a connection that received nothing for this long is closed; longer than
 *     {@code keepAliveInterval}, and servers' must exceed their clients' interval
 * @param reconnectBackoffMin how long a peer that could not be reached is failed fast before the
 *     next attempt; doubles with each failure up to {@code reconnectBackoffMax}
 * @param reconnectBackoffMax the longest fail-fast period
 * @param ioThreads I/O threads a TCP transport runs
 */
public record PeerTransportConfig(
    Duration connectTimeout,
    Duration readTimeout,
    Duration writeTimeout,
    Duration flushTimeout,
    DataSize maxFrameSize,
    int maxInFlightPerConnection,
    int maxQueuedPerConnection,
    int connectionsPerPeer,
    Duration keepAliveInterval,
    Duration idleTimeout,
    Duration reconnectBackoffMin,
    Duration reconnectBackoffMax,
    int ioThreads) {

  /**
   * The smallest accepted {@link #maxFrameSize}: one {@code hasBlocks} request of the most refs a
   * frame carries (see docs/peer-protocol.md).
   */
  public static final DataSize MIN_FRAME_SIZE = DataSize.ofKibibytes(128);

  /** The largest accepted {@link #maxFrameSize}. */
  public static final DataSize MAX_FRAME_SIZE = DataSize.ofMebibytes(64);

  /**
   * Defaults for a LAN: deadlines well above a 1 MiB transfer on 1 GbE (about 10 ms), a connect
   * and handshake allowance that survives a busy node's garbage collection and JIT warm-up, a
   * frame size that fits the largest cluster block size (16 MiB), and keep-alives that find a
   * dead connection within 30 s.
   */
  public static final PeerTransportConfig DEFAULT = new PeerTransportConfig(
      Duration.ofSeconds(5),
      Duration.ofSeconds(2),
      Duration.ofSeconds(5),
      Duration.ofSeconds(30),
      DataSize.ofMebibytes(17),
      64,
      128,
      2,
      Duration.ofSeconds(10),
      Duration.ofSeconds(30),
      Duration.ofMillis(100),
      Duration.ofSeconds(5),
      2);

  public PeerTransportConfig {
    positive("connectTimeout", connectTimeout);
    positive("readTimeout", readTimeout);
    positive("writeTimeout", writeTimeout);
    positive("flushTimeout", flushTimeout);
    frameSize(maxFrameSize);
    atLeastOne("maxInFlightPerConnection", maxInFlightPerConnection);
    atLeastOne("maxQueuedPerConnection", maxQueuedPerConnection);
    atLeastOne("connectionsPerPeer", connectionsPerPeer);
    positive("keepAliveInterval", keepAliveInterval);
    positive("idleTimeout", idleTimeout);
    positive("reconnectBackoffMin", reconnectBackoffMin);
    positive("reconnectBackoffMax", reconnectBackoffMax);
    atLeastOne("ioThreads", ioThreads);
    if (idleTimeout.compareTo(keepAliveInterval) <= 0) {
      throw new IllegalArgumentException("idleTimeout (" + idleTimeout
          + ") must be longer than keepAliveInterval (" + keepAliveInterval + ")");
    }
    if (reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
      throw new IllegalArgumentException("reconnectBackoffMax (" + reconnectBackoffMax
          + ") is shorter than reconnectBackoffMin (" + reconnectBackoffMin + ")");
    }
  }

  /** A builder starting from {@link #DEFAULT}. */
  public static Builder builder() {
    return DEFAULT.toBuilder();
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  private static Duration positive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
    return d;
  }

  private static int atLeastOne(String name, int n) {
    if (n < 1) {
      throw new IllegalArgumentException(name + " must be at least 1: " + n);
    }
    return n;
  }

  private static DataSize frameSize(DataSize size) {
    Objects.requireNonNull(size, "maxFrameSize");
    if (size.compareTo(MIN_FRAME_SIZE) < 0 || size.compareTo(MAX_FRAME_SIZE) > 0) {
      throw new IllegalArgumentException("maxFrameSize must be between " + MIN_FRAME_SIZE
          + " and " + MAX_FRAME_SIZE + ": " + size);
    }
    return size;
  }

  /**
   * Builds a {@link PeerTransportConfig}; each setter refuses a bad value at once. Not thread-safe.
   */
  public static final class Builder {
    private Duration connectTimeout;
    private Duration readTimeout;
    private Duration writeTimeout;
    private Duration flushTimeout;
    private DataSize maxFrameSize;
    private int maxInFlightPerConnection;
    private int maxQueuedPerConnection;
    private int connectionsPerPeer;
    private Duration keepAliveInterval;
    private Duration idleTimeout;
    private Duration reconnectBackoffMin;
    private Duration reconnectBackoffMax;
    private int ioThreads;

    private Builder(PeerTransportConfig c) {
      connectTimeout = c.connectTimeout;
      readTimeout = c.readTimeout;
      writeTimeout = c.writeTimeout;
      flushTimeout = c.flushTimeout;
      maxFrameSize = c.maxFrameSize;
      maxInFlightPerConnection = c.maxInFlightPerConnection;
      maxQueuedPerConnection = c.maxQueuedPerConnection;
      connectionsPerPeer = c.connectionsPerPeer;
      keepAliveInterval = c.keepAliveInterval;
      idleTimeout = c.idleTimeout;
      reconnectBackoffMin = c.reconnectBackoffMin;
      reconnectBackoffMax = c.reconnectBackoffMax;
      ioThreads = c.ioThreads;
    }

    public Builder connectTimeout(Duration d) {
      connectTimeout = positive("connectTimeout", d);
      return this;
    }

    public Builder readTimeout(Duration d) {
      readTimeout = positive("readTimeout", d);
      return this;
    }

    public Builder writeTimeout(Duration d) {
      writeTimeout = positive("writeTimeout", d);
      return this;
    }

    public Builder flushTimeout(Duration d) {
      flushTimeout = positive("flushTimeout", d);
      return this;
    }

    /** Sets the read, write and flush deadlines to one value. */
    public Builder callTimeout(Duration d) {
      return readTimeout(d).writeTimeout(d).flushTimeout(d);
    }

    public Builder maxFrameSize(DataSize size) {
      maxFrameSize = frameSize(size);
      return this;
    }

    public Builder maxInFlightPerConnection(int n) {
      maxInFlightPerConnection = atLeastOne("maxInFlightPerConnection", n);
      return this;
    }

    public Builder maxQueuedPerConnection(int n) {
      maxQueuedPerConnection = atLeastOne("maxQueuedPerConnection", n);
      return this;
    }

    public Builder connectionsPerPeer(int n) {
      connectionsPerPeer = atLeastOne("connectionsPerPeer", n);
      return this;
    }

    /** Sets the keep-alive interval and the idle timeout together, as they constrain each other. */
    public Builder keepAlive(Duration interval, Duration idle) {
      positive("keepAliveInterval", interval);
      positive("idleTimeout", idle);
      if (idle.compareTo(interval) <= 0) {
        throw new IllegalArgumentException(
            "idleTimeout (" + idle + ") must be longer than keepAliveInterval (" + interval + ")");
      }
      keepAliveInterval = interval;
      idleTimeout = idle;
      return this;
    }

    /** Sets the reconnect back-off range. */
    public Builder reconnectBackoff(Duration min, Duration max) {
      positive("reconnectBackoffMin", min);
      positive("reconnectBackoffMax", max);
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException(
            "reconnectBackoffMax (" + max + ") is shorter than reconnectBackoffMin (" + min + ")");
      }
      reconnectBackoffMin = min;
      reconnectBackoffMax = max;
      return this;
    }

    public Builder ioThreads(int n) {
      ioThreads = atLeastOne("ioThreads", n);
      return this;
    }

    public PeerTransportConfig build() {
      return new PeerTransportConfig(connectTimeout, readTimeout, writeTimeout, flushTimeout,
          maxFrameSize, maxInFlightPerConnection, maxQueuedPerConnection, connectionsPerPeer,
          keepAliveInterval, idleTimeout, reconnectBackoffMin, reconnectBackoffMax, ioThreads);
    }
  }
}
