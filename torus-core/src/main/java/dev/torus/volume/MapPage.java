package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.TorusExceptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jspecify.annotations.Nullable;

/**
 * The on-disk form of one map page, as a mutable byte image of exactly one block.
 *
 * <pre>
 * offset  size  field
 *      0     4  magic 0x50414D54 ("TMAP" little-endian)
 *      4     1  format version (1)
 *      5     1  level (0 = leaf: entries point at data blocks; n: entries point at level n-1 pages)
 *      6    10  reserved, zero
 *     16  28*n  entries: BlockRef wire form (24 bytes, all zero = hole) + CRC-32C (u32 LE)
 * </pre>
 *
 * All integers little-endian, like every other Torus on-disk encoding. A page whose entries are
 * all holes is never stored: its parent holds a hole instead.
 */
final class MapPage {
  static final int HEADER = 16;
  static final int ENTRY = BlockRef.BYTES + 4;
  static final int MAGIC = 0x50414D54;
  static final int VERSION = 1;

  private final ByteBuffer bytes;

  private MapPage(byte[] image) {
    this.bytes = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A new page of all holes. */
  static MapPage empty(int blockSize, int level) {
    MapPage page = new MapPage(new byte[blockSize]);
    page.bytes.putInt(0, MAGIC).put(4, (byte) VERSION).put(5, (byte) level);
    return page;
  }

  /**
   * Wraps a stored image after checking its header; fails with {@code CORRUPTED} naming {@code
   * ref} if the header is not a map page at the expected level.
   */
  static MapPage parse(byte[] image, BlockRef ref, int expectedLevel) {
    MapPage page = new MapPage(image);
    if (page.bytes.getInt(0) != MAGIC || page.bytes.get(4) != VERSION) {
      throw TorusExceptions.corrupted("block " + ref + " is not a Torus map page");
    }
    if (page.level() != expectedLevel) {
      throw TorusExceptions.corrupted(
          "map page " + ref + " is at level " + page.level() + ", expected " + expectedLevel);
    }
    return page;
  }

  /** A copy that can be changed without touching this page. */
  MapPage copy() {
    return new MapPage(bytes.array().clone());
  }

  byte[] image() {
    return bytes.array();
  }

  int level() {
    return bytes.get(5);
  }

  int capacity() {
    return (bytes.capacity() - HEADER) / ENTRY;
  }

  /** The entry in {@code slot}, or {@code null} for a hole. */
  @Nullable BlockPointer get(int slot) {
    int at = HEADER + slot * ENTRY;
    long word = bytes.getLong(at);
    long inode = bytes.getLong(at + 8);
    long index = bytes.getLong(at + 16);
    if (word == 0 && inode == 0 && index == 0) {
      return null;
    }
    return new BlockPointer(BlockRef.fromParts(word, inode, index), bytes.getInt(at + 24));
  }

  /** Sets {@code slot} to {@code pointer}, or to a hole for {@code null}. */
  void set(int slot, @Nullable BlockPointer pointer) {
    int at = HEADER + slot * ENTRY;
    if (pointer == null) {
      bytes.putLong(at, 0).putLong(at + 8, 0).putLong(at + 16, 0).putInt(at + 24, 0);
    } else {
      BlockRef r = pointer.ref();
      bytes.putLong(at, r.volumeWord()).putLong(at + 8, r.inode()).putLong(at + 16, r.index())
          .putInt(at + 24, pointer.crc());
    }
  }

  /** Whether every entry is a hole. */
  boolean isEmpty() {
    for (int slot = 0; slot < capacity(); slot++) {
      int at = HEADER + slot * ENTRY;
      if (bytes.getLong(at) != 0 || bytes.getLong(at + 8) != 0 || bytes.getLong(at + 16) != 0) {
        return false;
      }
    }
    return true;
  }
}
