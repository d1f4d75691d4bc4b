package dev.torus.nbd;

import org.jspecify.annotations.Nullable;

/**
 * An export name of {@link ExportResolver#ofVolumes}: a volume's name, or {@code volume@snapshot}
 * for one of its snapshots. A leading {@code @} is part of a volume's name.
 */
record ExportName(String volume, @Nullable String snapshot) {
  static ExportName parse(String name) {
    int at = name.indexOf('@');
    return at > 0
        ? new ExportName(name.substring(0, at), name.substring(at + 1))
        : new ExportName(name, null);
  }
}
