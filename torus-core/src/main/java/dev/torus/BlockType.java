package dev.torus;

/**
 * What a stored block holds. The code is packed into the top 24 bits of a {@link BlockRef}'s
 * volume word and so is part of every on-disk and on-wire reference.
 */
public enum BlockType {
  /** Volume data. */
  DATA(0),
  /** A page of a volume's block map (the copy-on-write tree). */
  MAP(1);

  private final int code;

  BlockType(int code) {
    this.code = code;
  }

  /** The stable numeric code. */
  public int code() {
    return code;
  }

  /** The type for a code; fails with {@link IllegalArgumentException} for unknown codes. */
  public static BlockType fromCode(int code) {
    return switch (code) {
      case 0 -> DATA;
      case 1 -> MAP;
      default -> throw new IllegalArgumentException("unknown block type " + code);
    };
  }
}
