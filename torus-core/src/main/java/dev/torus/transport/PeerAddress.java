package dev.torus.transport;

import dev.torus.TorusExceptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where a peer is reached: {@code scheme://host:port}, e.g. {@code tcp://10.0.0.5:40000} or
 * {@code tcp://[fd00::5]:40000}. The scheme names the transport. Value type.
 *
 * <p>Unlike the Go original, there is no default port: an address without one is refused when it
 * is parsed, not when the first call fails. Port 0 is valid only as a bind address ("any free
 * port"); a node advertises the port it actually bound.
 */
public record PeerAddress(String scheme, String host, int port) {
  private static final Pattern SCHEME = Pattern.compile("[a-z][a-z0-9+.-]*");

  public PeerAddress {
    Objects.requireNonNull(scheme, "scheme");
    Objects.requireNonNull(host, "host");
    if (!SCHEME.matcher(scheme).matches()) {
      throw TorusExceptions.invalid("invalid peer address scheme '" + scheme + "'");
    }
    if (host.isBlank()) {
      throw TorusExceptions.invalid("peer address has no host");
    }
    if (port < 0 || port > 65535) {
      throw TorusExceptions.invalid("peer address port out of range (0-65535): " + port);
    }
  }

  /**
   * Parses {@code scheme://host:port}.
   *
   * @throws dev.torus.TorusException {@code INVALID_ARGUMENT} naming what is wrong: no scheme, no
   *     host, no port, a port out of range, or a path, query or user part
   */
  public static PeerAddress parse(String text) {
    String hint = " (expected scheme://host:port, e.g. tcp://10.0.0.5:40000)";
    if (!text.contains("://")) {
      throw TorusExceptions.invalid("peer address '" + text + "' has no scheme" + hint);
    }
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw TorusExceptions.invalid(
          "peer address '" + text + "' is malformed: " + e.getReason() + hint);
    }
    if (uri.getHost() == null) {
      throw TorusExceptions.invalid("peer address '" + text + "' has no valid host" + hint);
    }
    if (uri.getPort() == -1) {
      throw TorusExceptions.invalid("peer address '" + text + "' has no port" + hint);
    }
    if (uri.getRawUserInfo() != null || !uri.getRawPath().isEmpty() || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw TorusExceptions.invalid(
          "peer address '" + text + "' has more than scheme, host and port" + hint);
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new PeerAddress(uri.getScheme().toLowerCase(Locale.ROOT), host, uri.getPort());
  }

  /** The address of a bound socket, with its literal IP as the host. */
  public static PeerAddress of(String scheme, InetSocketAddress bound) {
    return new PeerAddress(scheme, bound.getHostString(), bound.getPort());
  }

  /**
   * This address, checked to have {@code expected} as its scheme.
   *
   * @throws dev.torus.TorusException {@code INVALID_ARGUMENT} for another scheme
   */
  public PeerAddress requireScheme(String expected) {
    if (!scheme.equals(expected)) {
      throw TorusExceptions.invalid("peer address " + this + " has scheme '" + scheme
          + "', but this transport speaks '" + expected + "://'");
    }
    return this;
  }

  /**
   * This address, checked to be one a client can dial: port 0 means "any free port" to a server
   * binding, and names no peer.
   *
   * @throws dev.torus.TorusException {@code INVALID_ARGUMENT} for port 0
   */
  public PeerAddress requireDialable() {
    if (port == 0) {
      throw TorusExceptions.invalid("peer address " + this + " has port 0, which only a server "
          + "binds; dial the port the peer advertises");
    }
    return this;
  }

  /** An unresolved socket address, so that making it never does a DNS lookup. */
  public InetSocketAddress toSocketAddress() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  @Override
  public String toString() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + port;
  }
}
