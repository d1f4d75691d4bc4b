package dev.torus.server.options;

import dev.torus.nbd.NbdTls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The NBD server's TLS files, a mixin of {@code torusd} and {@code torusblk nbdserve}. Both take
 * {@code --nbd-tls-*}, which names them apart from etcd's TLS files, and the shorter {@code
 * --tls-*} that reads naturally beside {@code nbdserve}'s other options.
 */
public final class NbdTlsOptions {
  @Option(names = {"--nbd-tls-cert", "--tls-cert"}, paramLabel = "FILE",
      description = "offer NBD clients TLS (STARTTLS) with this PEM certificate chain; needs"
          + " the key")
  @Nullable Path certificate;

  @Option(names = {"--nbd-tls-key", "--tls-key"}, paramLabel = "FILE",
      description = "the certificate's unencrypted PKCS#8 PEM key")
  @Nullable Path key;

  @Option(names = {"--nbd-tls-client-ca", "--tls-client-ca"}, paramLabel = "FILE",
      description = "require client certificates signed by these PEM CA certificates")
  @Nullable Path clientCa;

  @Option(names = {"--nbd-tls-required", "--tls-required"},
      description = "refuse clients that do not switch to TLS (default: they choose)")
  boolean required;

  /**
   * The TLS to serve with, or null when no file is named.
   *
   * @param prefix {@code "--tls-"} or {@code "--nbd-tls-"}: how the command's messages name them
   * @throws IllegalArgumentException naming the option that is missing or the file that cannot
   *     be read
   */
  public @Nullable NbdTls tls(String prefix) {
    if (certificate == null && key == null) {
      if (clientCa != null || required) {
        throw new IllegalArgumentException(prefix + (clientCa != null ? "client-ca" : "required")
            + " needs " + prefix + "cert and " + prefix + "key");
      }
      return null;
    }
    if (certificate == null || key == null) {
      throw new IllegalArgumentException(prefix + "cert and " + prefix + "key go together");
    }
    readable(prefix + "cert", certificate);
    readable(prefix + "key", key);
    if (clientCa != null) {
      readable(prefix + "client-ca", clientCa);
    }
    return new NbdTls(certificate, key, clientCa, required);
  }

  private static void readable(String option, Path file) {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new IllegalArgumentException(option + " " + file + ": not a readable file");
    }
  }
}
