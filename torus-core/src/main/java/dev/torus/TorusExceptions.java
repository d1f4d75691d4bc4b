package dev.torus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.FileSystemException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/** The one place that builds {@link TorusException}s, so that codes and wording stay consistent. */
public final class TorusExceptions {
  private TorusExceptions() {}

  public static TorusException notFound(String what) {
    return new TorusException(ErrorCode.NOT_FOUND, what + " does not exist");
  }

  public static TorusException alreadyExists(String what) {
    return new TorusException(ErrorCode.ALREADY_EXISTS, what + " already exists");
  }

  public static TorusException invalid(String message) {
    return new TorusException(ErrorCode.INVALID_ARGUMENT, message);
  }

  public static TorusException locked(String message) {
    return new TorusException(ErrorCode.LOCKED, message);
  }

  public static TorusException closed(String what) {
    return new TorusException(ErrorCode.CLOSED, what + " is closed");
  }

  public static TorusException unavailable(String message, @Nullable Throwable cause) {
    return new TorusException(ErrorCode.UNAVAILABLE, message, cause);
  }

  /**
   * A listener that could not bind: {@code UNAVAILABLE}, naming the address as an operator writes
   * it and what to do about the usual reasons.
   *
   * @param what what would have been served, e.g. {@code "NBD"}
   */
  public static TorusException cannotListen(String what, SocketAddress address,
      @Nullable Throwable cause) {
    String reason = cause == null || cause.getMessage() == null
        ? "unknown failure"
        // Netty's native transport prefixes the OS's text with the call and errno.
        : cause.getMessage().replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
    return new TorusException(ErrorCode.UNAVAILABLE,
        "cannot listen for " + what + " on " + describe(address) + ": " + reason
            + bindAdvice(reason), cause);
  }

  /** {@code ip:port} ({@code [ip]:port} for IPv6), or a Unix socket's path. */
  private static String describe(SocketAddress address) {
    if (!(address instanceof InetSocketAddress inet)) {
      return address.toString();
    }
    String host =
        inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
  }

  /**
   * What to do about the usual reasons a bind fails, recognised by the OS's text: the one thing
   * the JDK's and Netty's native exceptions share.
   */
  private static String bindAdvice(String reason) {
    if (reason.contains("Address already in use")) {
      return " (another process listens there: stop it, or choose another address or socket path)";
    }
    if (reason.contains("Permission denied")) {
      return " (ports below 1024 need root or CAP_NET_BIND_SERVICE; a socket path needs a"
          + " directory this user may write)";
    }
    if (reason.contains("Cannot assign requested address")) {
      return " (no network interface of this host has that address)";
    }
    return "";
  }

  public static TorusException outOfSpace(String message) {
    return new TorusException(ErrorCode.OUT_OF_SPACE, message);
  }

  public static TorusException corrupted(String message) {
    return new TorusException(ErrorCode.CORRUPTED, message);
  }

  public static TorusException notSupported(String message) {
    return new TorusException(ErrorCode.NOT_SUPPORTED, message);
  }

  public static TorusException readOnly(String what) {
    return new TorusException(ErrorCode.READ_ONLY, what + " is open read-only");
  }

  public static TorusException internal(String message, @Nullable Throwable cause) {
    return new TorusException(ErrorCode.INTERNAL, message, cause);
  }

  /** Wraps an interruption and restores the thread's interrupt flag. */
  public static TorusException interrupted(InterruptedException e) {
    Thread.currentThread().interrupt();
    return new TorusException(ErrorCode.INTERRUPTED, "interrupted", e);
  }

  /**
   * Maps an I/O failure onto a code: a full file system is {@link ErrorCode#OUT_OF_SPACE}, anything
   * else {@link ErrorCode#UNAVAILABLE}. {@code what} names the file or operation for the message.
   */
  public static TorusException io(String what, IOException e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (isNoSpace(e)) {
      return new TorusException(
          ErrorCode.OUT_OF_SPACE, what + ": no space left on device; free space or grow the disk", e);
    }
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      detail = fse.getReason();
    }
    return new TorusException(ErrorCode.UNAVAILABLE, what + ": " + detail, e);
  }

  private static boolean isNoSpace(IOException e) {
    String m = e.getMessage();
    return m != null && (m.contains("No space left") || m.contains("ENOSPC") || m.contains("Disk quota"));
  }

  /**
   * The {@link TorusException} behind a failure, unwrapping {@link CompletionException} and
   * {@link ExecutionException}; anything that is not a Torus failure becomes {@link
   * ErrorCode#INTERNAL} (or the matching code for timeouts, interrupts and I/O).
   */
  public static TorusException unwrap(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TorusException te) {
      return te;
    }
    if (cause instanceof InterruptedException ie) {
      return interrupted(ie);
    }
    if (cause instanceof TimeoutException) {
      return new TorusException(ErrorCode.TIMEOUT, "timed out", cause);
    }
    if (cause instanceof CancellationException) {
      return new TorusException(ErrorCode.CLOSED, "cancelled", cause);
    }
    if (cause instanceof IOException io) {
      return io("I/O failed", io);
    }
    String m = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
    return internal(m, cause);
  }
}
