package dev.torus.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Configuration of an {@link NbdServer}. Build with {@link #builder()}; {@link #DEFAULT} listens on
 * {@code 127.0.0.1:10809} only.
 *
 * @param bindAddress TCP address to listen on, or null for no TCP listener (then {@code
 *     unixSocket} is required); port 0 picks a free port (see {@link NbdServer#boundAddress()})
 * @param unixSocket path of a Unix domain socket listener, or null for none; the file must not
 *     exist and is removed when the server closes
 * @param readOnly refuse writes on every export, whatever the exports allow
 * @param description description sent for exports whose {@link ExportInfo#description()} is empty
 * @param defaultExport export served to clients that ask for the empty name (as {@code
 *     nbd://host/} URIs do), or null to pass the empty name to the resolver unchanged
 * @param maxPayload largest READ or WRITE in bytes, advertised as the maximum block size; longer
 *     requests fail with EINVAL (a write's payload is read and discarded first)
 * @param maxInFlight requests per connection being served at once before the server stops reading
 *     from that connection; replies not yet written to the socket count as in flight
 * @param ioThreads event-loop threads shared by all connections
 * @param idlePoll how long an event loop that has run out of work polls its connections for more
 *     before it sleeps; zero sleeps at once. Polling saves the wake-up of a client that sends its
 *     next request right after each reply (queue depth 1), at the price of that much CPU after
 *     each burst of work; an idle server sleeps either way. At most {@link #MAX_IDLE_POLL}.
 * @param handshakeTimeout how long a client may take from connecting to entering transmission
 * @param shutdownGrace how long {@link NbdServer#close()} waits for connections to finish their
 *     in-flight requests before closing them
 * @param tls TLS that clients may or must use, or null for none (STARTTLS gets {@code
 *     NBD_REP_ERR_UNSUP})
 */
public record NbdServerConfig(
    @Nullable InetSocketAddress bindAddress,
    @Nullable Path unixSocket,
    boolean readOnly,
    String description,
    @Nullable String defaultExport,
    int maxPayload,
    int maxInFlight,
    int ioThreads,
    Duration idlePoll,
    Duration handshakeTimeout,
    Duration shutdownGrace,
    @Nullable NbdTls tls) {
  /** Largest payload clients may assume without asking (2^25), and the default. */
  public static final int DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;

  /** Smallest accepted {@link #maxPayload}: DF reads up to 64 KiB must always work. */
  public static final int MIN_MAX_PAYLOAD = NbdProtocol.MIN_DF_READ;

  /** Default {@link #idlePoll}: longer than a client at queue depth 1 takes to send its next request. */
  public static final Duration DEFAULT_IDLE_POLL = Duration.ofNanos(50_000);

  /** Longest accepted {@link #idlePoll}: beyond it polling costs far more than it saves. */
  public static final Duration MAX_IDLE_POLL = Duration.ofMillis(10);

  /** Loopback on the IANA NBD port, no Unix socket, writable, 32 MiB payloads. */
  public static final NbdServerConfig DEFAULT = builder().build();

  public NbdServerConfig {
    if (bindAddress == null && unixSocket == null) {
      throw new IllegalArgumentException("no listener: give a TCP address, a Unix socket or both");
    }
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(idlePoll, "idlePoll");
    Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    if (description.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING_LENGTH) {
      throw new IllegalArgumentException("description longer than 4096 bytes");
    }
    if (maxPayload < MIN_MAX_PAYLOAD) {
      throw new IllegalArgumentException(
          "maxPayload must be at least " + MIN_MAX_PAYLOAD + ": " + maxPayload);
    }
    if (maxInFlight < 1 || ioThreads < 1) {
      throw new IllegalArgumentException(
          "maxInFlight and ioThreads must be positive: " + maxInFlight + ", " + ioThreads);
    }
    if (idlePoll.isNegative() || idlePoll.compareTo(MAX_IDLE_POLL) > 0) {
      throw new IllegalArgumentException(
          "idlePoll must be between 0 and " + MAX_IDLE_POLL.toMillis() + " ms: " + idlePoll);
    }
    if (handshakeTimeout.isNegative() || handshakeTimeout.isZero() || shutdownGrace.isNegative()) {
      throw new IllegalArgumentException(
          "handshakeTimeout must be positive and shutdownGrace not negative");
    }
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link NbdServerConfig}; every setter has a default. Not thread-safe. */
  public static final class Builder {
    private @Nullable InetSocketAddress bindAddress =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), NbdProtocol.DEFAULT_PORT);
    private @Nullable Path unixSocket;
    private boolean readOnly;
    private String description = "";
    private @Nullable String defaultExport;
    private int maxPayload = DEFAULT_MAX_PAYLOAD;
    private int maxInFlight = 128;
    private int ioThreads = Runtime.getRuntime().availableProcessors();
    private Duration idlePoll = DEFAULT_IDLE_POLL;
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private @Nullable NbdTls tls;

    private Builder() {}

    /** TCP address, or null to serve only the Unix socket; default loopback port 10809. */
    public Builder bindAddress(@Nullable InetSocketAddress address) {
      this.bindAddress = address;
      return this;
    }

    /** TCP port on the loopback address; 0 picks a free one. */
    public Builder port(int port) {
      return bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** Also listen on this Unix domain socket; default none. */
    public Builder unixSocket(@Nullable Path path) {
      this.unixSocket = path;
      return this;
    }

    /** Refuse writes on every export; default false. */
    public Builder readOnly(boolean readOnly) {
      this.readOnly = readOnly;
      return this;
    }

    /** Description for exports without their own; default empty. */
    public Builder description(String description) {
      this.description = description;
      return this;
    }

    /** Export for clients that ask for the empty name; default none. */
    public Builder defaultExport(@Nullable String name) {
      this.defaultExport = name;
      return this;
    }

    /** Largest READ or WRITE; default 32 MiB. */
    public Builder maxPayload(int bytes) {
      this.maxPayload = bytes;
      return this;
    }

    /** Requests served at once per connection; default 128 (the Linux driver's queue depth). */
    public Builder maxInFlight(int requests) {
      this.maxInFlight = requests;
      return this;
    }

    /** Event-loop threads; default one per processor. */
    public Builder ioThreads(int threads) {
      this.ioThreads = threads;
      return this;
    }

    /** Polling of an event loop out of work before it sleeps; default 50 µs, zero for none. */
    public Builder idlePoll(Duration poll) {
      this.idlePoll = poll;
      return this;
    }

    /** Time allowed for the handshake; default 10 s. */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = timeout;
      return this;
    }

    /** Time close() waits for in-flight requests; default 10 s. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = grace;
      return this;
    }

    /** TLS for clients that ask for it, or that must; default none. */
    public Builder tls(@Nullable NbdTls tls) {
      this.tls = tls;
      return this;
    }

    /** Validates and builds; fails with {@link IllegalArgumentException} on bad values. */
    public NbdServerConfig build() {
      return new NbdServerConfig(
          bindAddress,
          unixSocket,
          readOnly,
          description,
          defaultExport,
          maxPayload,
          maxInFlight,
          ioThreads,
          idlePoll,
          handshakeTimeout,
          shutdownGrace,
          tls);
    }
  }
}
