package dev.torus.volume;

/**
 * A run of bytes of a device with the same allocation state.
 *
 * @param hole true if no block backs the run: it reads as zero and uses no space
 */
public record Extent(long offset, long length, boolean hole) {
  public Extent {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("invalid extent " + offset + "+" + length);
    }
  }

  /** First byte after the extent. */
  public long end() {
    return offset + length;
  }
}
