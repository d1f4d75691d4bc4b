package dev.torus.server.options;

import dev.torus.DataSize;
import dev.torus.TorusException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses sizes such as {@code 10GiB}, {@code 512MiB}, {@code 1.5TB} or a byte count. */
public final class SizeConverter implements ITypeConverter<DataSize> {
  @Override
  public DataSize convert(String value) {
    try {
      return DataSize.parse(value);
    } catch (TorusException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
