package dev.torus.metadata.etcd;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs one {@link EtcdProcess} for a test class: {@code @RegisterExtension static final
 * EtcdProcessExtension ETCD = new EtcdProcessExtension();}, then {@code ETCD.etcd()}.
 *
 * <p>Without the etcd binary the class is skipped with a message naming the Debian package
 * ({@code etcd-server}); under CI ({@code CI=true}) it fails instead, because CI installs etcd
 * and a silent skip would hide every etcd test.
 */
public final class EtcdProcessExtension implements BeforeAllCallback, AfterAllCallback {
  private @Nullable EtcdProcess etcd;

  @Override
  public void beforeAll(ExtensionContext context) {
    if (EtcdProcess.findBinary().isEmpty()) {
      String message = "etcd is not installed (install the Debian package etcd-server, or put"
          + " etcd on PATH); skipping " + context.getDisplayName();
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(message.replace("skipping", "CI must run"));
      }
      Assumptions.abort(message);
    }
    etcd = EtcdProcess.start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (etcd != null) {
      etcd.close();
      etcd = null;
    }
  }

  /** The running etcd of this class. */
  public EtcdProcess etcd() {
    if (etcd == null) {
      throw new IllegalStateException("etcd is not running: register the extension as static");
    }
    return etcd;
  }
}
