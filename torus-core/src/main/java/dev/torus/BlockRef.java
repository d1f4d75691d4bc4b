package dev.torus;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Names one immutable block: the write session that created it and its sequence number in that
 * session. Value type.
 *
 * <p>Wire form ({@link #BYTES} bytes, little-endian, compatible with the Go original): the volume
 * word (type in bits 63..40, volume id in bits 39..0), the inode, the index.
 */
public record BlockRef(VolumeId volume, long inode, long index, BlockType type) {
  /** Size of the wire form. */
  public static final int BYTES = 24;

  public BlockRef {
    Objects.requireNonNull(volume, "volume");
    Objects.requireNonNull(type, "type");
    if (inode <= 0) {
      throw new IllegalArgumentException("inode must be positive: " + inode);
    }
    if (index < 0) {
      throw new IllegalArgumentException("index < 0: " + index);
    }
  }

  /** A reference within one write session. */
  public static BlockRef of(INodeRef session, long index, BlockType type) {
    return new BlockRef(session.volume(), session.inode(), index, type);
  }

  /** The write session that created this block. */
  public INodeRef session() {
    return new INodeRef(volume, inode);
  }

  /** The packed volume word: block type in the top 24 bits, volume id in the low 40. */
  public long volumeWord() {
    return ((long) type.code() << 40) | volume.value();
  }

  /** Writes the 24-byte wire form at the buffer's position, advancing it. */
  public void writeTo(ByteBuffer out) {
    ByteBuffer le = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    le.putLong(volumeWord()).putLong(inode).putLong(index);
    out.position(le.position());
  }

  /** The 24-byte wire form. */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(BYTES);
    writeTo(b);
    return b.array();
  }

  /** Reads the 24-byte wire form at the buffer's position, advancing it. */
  public static BlockRef readFrom(ByteBuffer in) {
    ByteBuffer le = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long word = le.getLong();
    long inode = le.getLong();
    long index = le.getLong();
    in.position(le.position());
    return fromParts(word, inode, index);
  }

  /** A reference from its three wire words; fails on an all-zero (null) reference. */
  public static BlockRef fromParts(long volumeWord, long inode, long index) {
    BlockType type = BlockType.fromCode((int) (volumeWord >>> 40));
    return new BlockRef(new VolumeId(volumeWord & VolumeId.MAX), inode, index, type);
  }

  /** Parses the 24-byte wire form. */
  public static BlockRef fromBytes(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("a block ref is " + BYTES + " bytes, got " + bytes.length);
    }
    return readFrom(ByteBuffer.wrap(bytes));
  }

  /**
   * Mixes all three words: the record's default (31 times the previous field plus the next)
   * collides for every session and index pair that differ by 1 and -31, which turns the hash maps
   * of the stores into long chains.
   */
  @Override
  public int hashCode() {
    long h = volumeWord() * 0x9E3779B97F4A7C15L;
    h = (h ^ inode) * 0xC2B2AE3D27D4EB4FL;
    h = (h ^ index) * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 29) ^ (h >>> 47));
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof BlockRef r && r.inode == inode && r.index == index
        && r.volume.equals(volume) && r.type == type;
  }

  @Override
  public String toString() {
    return String.format("%s:%d:%d:%d", type == BlockType.DATA ? "d" : "m", volume.value(), inode,
        index);
  }
}
