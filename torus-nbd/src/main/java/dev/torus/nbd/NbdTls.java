package dev.torus.nbd;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * TLS for an NBD server ({@code NBD_OPT_STARTTLS}): the server's certificate and key, whose
 * clients may or must switch to TLS before they choose an export.
 *
 * @param certificateChain the server's certificate, then any intermediates, in PEM
 * @param privateKey the certificate's key in unencrypted PKCS#8 PEM ({@code openssl genpkey}
 *     writes it so)
 * @param clientCa CA certificates in PEM that sign the certificates clients must present, or null
 *     to accept any client that completes TLS
 * @param required refuse everything but STARTTLS and ABORT until TLS is on ("FORCEDTLS" in the
 *     spec's terms); false lets clients choose ("SELECTIVETLS")
 */
public record NbdTls(Path certificateChain, Path privateKey, @Nullable Path clientCa,
    boolean required) {
  public NbdTls {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
  }

  /** How a server announces it: {@code "TLS required"} or {@code "TLS offered"}. */
  public String mode() {
    return required ? "TLS required" : "TLS offered";
  }
}
