package dev.torus.server.options;

import dev.torus.nbd.NbdTls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The NBD TLS files a command line names, checked together: {@code torusblk nbdserve} names them
 * {@code --tls-*}, {@code torusd} {@code --nbd-tls-*}, with the same meaning.
 */
public final class NbdTlsFiles {
  private NbdTlsFiles() {}

  /**
   * The TLS to serve with, or null when no file is named.
   *
   * @param prefix the options' prefix, {@code "--tls-"} or {@code "--nbd-tls-"}, for messages
   * @throws IllegalArgumentException naming the option that is missing or the file that cannot
   *     be read
   */
  public static @Nullable NbdTls of(String prefix, @Nullable Path certificate, @Nullable Path key,
      @Nullable Path clientCa, boolean required) {
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
