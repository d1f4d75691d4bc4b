package dev.torus;

/**
 * A volume's numeric identity, unique in a cluster and never reused. 40 bits, as in the Go
 * original, so that it packs beside a {@link BlockType} into one 64-bit word of a {@link BlockRef}.
 */
public record VolumeId(long value) implements Comparable<VolumeId> {
  /** The largest valid id. */
  public static final long MAX = 0xFF_FFFF_FFFFL;

  public VolumeId {
    if (value <= 0 || value > MAX) {
      throw new IllegalArgumentException("volume id out of range: " + value);
    }
  }

  /** Fixed-width lowercase hex, as used in metadata keys (ten digits, so keys sort by id). */
  public String hex() {
    return String.format("%010x", value);
  }

  @Override
  public int compareTo(VolumeId o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return "vol:" + value;
  }
}
