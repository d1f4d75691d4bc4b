package dev.torus.cli;

import dev.torus.Names;
import dev.torus.TorusException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A {@code VOLUME@SNAPSHOT} argument. */
public record SnapshotName(String volume, String snapshot) {
  /** Parses {@code VOLUME@SNAPSHOT}, validating both names. */
  public static final class Converter implements ITypeConverter<SnapshotName> {
    @Override
    public SnapshotName convert(String value) {
      int at = value.indexOf('@');
      if (at <= 0 || at == value.length() - 1) {
        throw new TypeConversionException(
            "'" + value + "' is not a snapshot: use the form VOLUME@SNAPSHOT");
      }
      try {
        return new SnapshotName(Names.checkVolumeName(value.substring(0, at)),
            Names.checkSnapshotName(value.substring(at + 1)));
      } catch (TorusException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return volume + "@" + snapshot;
  }
}
