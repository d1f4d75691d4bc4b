package dev.torus.server.options;

import java.net.InetSocketAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code HOST:PORT} (or {@code [IPV6]:PORT}) into a socket address to bind. */
public final class HostPortConverter implements ITypeConverter<InetSocketAddress> {
  @Override
  public InetSocketAddress convert(String value) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT, e.g. 127.0.0.1:10809");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' has no numeric port");
    }
    if (port < 0 || port > 65535) {
      throw new TypeConversionException("port out of range in '" + value + "'");
    }
    return new InetSocketAddress(host, port);
  }
}
