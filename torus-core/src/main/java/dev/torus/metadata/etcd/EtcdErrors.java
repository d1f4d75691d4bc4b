package dev.torus.metadata.etcd;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import io.etcd.jetcd.common.exception.ClosedClientException;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * Maps jetcd and gRPC failures onto {@link TorusException}s whose messages name the endpoints and
 * say what to do. The one place that knows etcd's error vocabulary.
 */
final class EtcdErrors {
  private final EtcdConfig config;
  private final BooleanSupplier closed;

  EtcdErrors(EtcdConfig config, BooleanSupplier closed) {
    this.config = config;
    this.closed = closed;
  }

  /** The failure of a call that outlived the call timeout. */
  TorusException timedOut(String what, boolean write) {
    return new TorusException(ErrorCode.TIMEOUT, "etcd at " + config.describeEndpoints()
        + " did not answer '" + what + "' within " + config.callTimeout().toMillis() + " ms"
        + (write ? " (it may or may not have been applied)" : "")
        + "; check that etcd is running and reachable");
  }

  TorusException map(String what, Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof TorusException te) {
      return te;
    }
    if (closed.getAsBoolean() || t instanceof ClosedClientException) {
      return TorusExceptions.closed("the etcd client for " + config.describeEndpoints());
    }
    String code = t instanceof EtcdException ee ? ee.getErrorCode().name()
        : Status.fromThrowable(t).getCode().name();
    String detail = detail(t);
    String at = "etcd at " + config.describeEndpoints();
    return switch (code) {
      case "NOT_FOUND" -> new TorusException(ErrorCode.NOT_FOUND,
          what + ": " + detail.replace("etcdserver: ", ""), t);
      case "UNAVAILABLE" -> TorusExceptions.unavailable(at + " is unavailable for '" + what + "' ("
          + detail + "); check that etcd is running and that the endpoints are right", t);
      case "DEADLINE_EXCEEDED" -> new TorusException(ErrorCode.TIMEOUT, at + " did not answer '"
          + what + "' in time (a write may or may not have been applied): " + detail, t);
      case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE" -> TorusExceptions.invalid(
          at + " refused '" + what + "': " + detail);
      case "RESOURCE_EXHAUSTED" -> detail.contains("space")
          ? new TorusException(ErrorCode.OUT_OF_SPACE, at + " is out of space (" + detail
              + "); compact and defragment etcd, then disarm the NOSPACE alarm", t)
          : TorusExceptions.invalid(at + " refused '" + what + "' as too large: " + detail);
      case "UNAUTHENTICATED", "PERMISSION_DENIED" -> TorusExceptions.invalid(at + " refused access"
          + " for '" + what + "' (" + detail + "); check the TLS client certificate");
      case "CANCELLED" -> TorusExceptions.unavailable(at + " cancelled '" + what + "': " + detail,
          t);
      // gRPC reports a connection that broke mid-call (etcd killed or restarting) as UNKNOWN.
      case "UNKNOWN" -> lostConnection(t)
          ? TorusExceptions.unavailable(at + " dropped the connection during '" + what + "' ("
              + detail + "); a write may or may not have been applied; check that etcd is running", t)
          : TorusExceptions.internal(at + " failed '" + what + "': " + detail, t);
      default -> TorusExceptions.internal(at + " failed '" + what + "': " + detail, t);
    };
  }

  /** Whether a failure comes from the connection rather than from etcd's answer. */
  private static boolean lostConnection(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = c.getMessage() == null ? "" : c.getMessage().toLowerCase(Locale.ROOT);
      if (c instanceof IOException || m.contains("channel closed")
          || m.contains("connection reset") || m.contains("connection closed")) {
        return true;
      }
    }
    return false;
  }

  /** The most specific message in the cause chain (e.g. "Connection refused"). */
  private static String detail(Throwable t) {
    String message = t.getMessage();
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null && !c.getMessage().isBlank()
          && (message == null || !message.contains(c.getMessage()))) {
        message = message == null ? c.getMessage() : message + ": " + c.getMessage();
      }
    }
    return message == null ? t.getClass().getSimpleName() : message;
  }
}
