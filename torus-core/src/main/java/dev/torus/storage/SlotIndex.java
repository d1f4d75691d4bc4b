package dev.torus.storage;

import dev.torus.BlockRef;

/**
 * The in-memory index of a file store: block ref to slot and CRC-32C, in two primitive arrays.
 *
 * <p>Open addressing with linear probing and backward-shift deletion (no tombstones): 32 bytes per
 * bucket and no object per block. The table starts small and grows by half when three quarters
 * full, so it costs 43 to 64 bytes per stored block (43 to 64 MB for a million) whatever the
 * capacity. A bucket's home is the hash scaled onto the table length
 * (Lemire's multiply-shift), which works for any length, not only powers of two.
 *
 * <p>A ref's inode is never 0 ({@link BlockRef} requires it positive), so inode 0 marks an empty
 * bucket. Not thread-safe: {@link SlotTable} guards it.
 */
final class SlotIndex {
  /** What {@link #get} returns for a ref that is not present; packed values are never negative. */
  static final long ABSENT = -1L;
  /** Bytes per entry in a checkpoint: the ref's three words, the slot, the CRC. */
  static final int ENTRY_BYTES = BlockRef.BYTES + 8;
  /** The most entries an index can hold: about 16 GiB of table. */
  static final int MAX_ENTRIES = 500_000_000;

  private static final int MIN_BUCKETS = 16;
  private static final int MAX_BUCKETS = (Integer.MAX_VALUE - 8) / 3;

  private long[] keys; // per bucket: volume word, inode, index
  private long[] values; // per bucket: slot << 32 | crc
  private int buckets;
  private int size;
  private int growAt;

  /** An empty index sized to hold {@code expected} entries without growing. */
  SlotIndex(int expected) {
    int b = MIN_BUCKETS;
    while (b < MAX_BUCKETS && growAt(b) < expected) {
      b = nextSize(b);
    }
    keys = new long[3 * b];
    values = new long[b];
    buckets = b;
    growAt = growAt(b);
  }

  /** Packs a slot and a CRC into one non-negative value. */
  static long pack(int slot, int crc) {
    return ((long) slot << 32) | (crc & 0xFFFF_FFFFL);
  }

  static int slot(long packed) {
    return (int) (packed >>> 32);
  }

  static int crc(long packed) {
    return (int) packed;
  }

  int size() {
    return size;
  }

  /** Heap bytes held by the table arrays. */
  long memoryBytes() {
    return (keys.length + (long) values.length) * Long.BYTES;
  }

  /** The packed slot and CRC of a ref, or {@link #ABSENT}. */
  long get(long volumeWord, long inode, long index) {
    int b = find(volumeWord, inode, index);
    return b < 0 ? ABSENT : values[b];
  }

  /** Maps a ref to a packed slot and CRC; returns the previous packed value or {@link #ABSENT}. */
  long put(long volumeWord, long inode, long index, long packed) {
    int b = find(volumeWord, inode, index);
    if (b >= 0) {
      long previous = values[b];
      values[b] = packed;
      return previous;
    }
    if (size >= growAt) {
      if (buckets == MAX_BUCKETS) {
        throw new IllegalStateException("block index is full (" + size + " entries)");
      }
      resize(nextSize(buckets));
      b = find(volumeWord, inode, index);
    }
    b = -b - 1;
    keys[3 * b] = volumeWord;
    keys[3 * b + 1] = inode;
    keys[3 * b + 2] = index;
    values[b] = packed;
    size++;
    return ABSENT;
  }

  /** Removes a ref; returns its packed value or {@link #ABSENT}. */
  long remove(long volumeWord, long inode, long index) {
    int b = find(volumeWord, inode, index);
    if (b < 0) {
      return ABSENT;
    }
    long previous = values[b];
    // Backward shift: pull later entries of the probe run into the gap where their probe
    // sequence passes it, so that lookups never need tombstones.
    int gap = b;
    int j = b;
    while (true) {
      j = j + 1 == buckets ? 0 : j + 1;
      if (keys[3 * j + 1] == 0) {
        break;
      }
      int home = home(keys[3 * j], keys[3 * j + 1], keys[3 * j + 2]);
      boolean movable = gap < j ? home <= gap || home > j : home <= gap && home > j;
      if (movable) {
        System.arraycopy(keys, 3 * j, keys, 3 * gap, 3);
        values[gap] = values[j];
        gap = j;
      }
    }
    keys[3 * gap] = 0;
    keys[3 * gap + 1] = 0;
    keys[3 * gap + 2] = 0;
    values[gap] = 0;
    size--;
    return previous;
  }

  /** Calls {@code visitor} for every entry, in table order. */
  void forEach(Visitor visitor) {
    for (int b = 0; b < buckets; b++) {
      if (keys[3 * b + 1] != 0) {
        visitor.visit(keys[3 * b], keys[3 * b + 1], keys[3 * b + 2], slot(values[b]),
            crc(values[b]));
      }
    }
  }

  /** Receives the entries of {@link #forEach}. */
  @FunctionalInterface
  interface Visitor {
    void visit(long volumeWord, long inode, long index, int slot, int crc);
  }

  /** The bucket holding the ref, or {@code -(bucket it would go into) - 1}. */
  private int find(long volumeWord, long inode, long index) {
    int b = home(volumeWord, inode, index);
    while (true) {
      long k = keys[3 * b + 1];
      if (k == 0) {
        return -b - 1;
      }
      if (k == inode && keys[3 * b + 2] == index && keys[3 * b] == volumeWord) {
        return b;
      }
      b = b + 1 == buckets ? 0 : b + 1;
    }
  }

  private int home(long volumeWord, long inode, long index) {
    long h = (volumeWord * 0x9E37_79B9_7F4A_7C15L + inode) * 0xC2B2_AE3D_27D4_EB4FL + index;
    h ^= h >>> 33; // murmur3 fmix64
    h *= 0xFF51_AFD7_ED55_8CCDL;
    h ^= h >>> 33;
    h *= 0xC4CE_B9FE_1A85_EC53L;
    h ^= h >>> 33;
    return (int) (((h >>> 32) * buckets) >>> 32);
  }

  private static int nextSize(int buckets) {
    return (int) Math.min(MAX_BUCKETS, buckets + (long) buckets / 2);
  }

  private static int growAt(int buckets) {
    return buckets == MAX_BUCKETS ? MAX_ENTRIES : buckets / 4 * 3;
  }

  private void resize(int newBuckets) {
    long[] oldKeys = keys;
    long[] oldValues = values;
    int oldBuckets = buckets;
    keys = new long[3 * newBuckets];
    values = new long[newBuckets];
    buckets = newBuckets;
    growAt = growAt(newBuckets);
    for (int b = 0; b < oldBuckets; b++) {
      if (oldKeys[3 * b + 1] != 0) {
        int to = -find(oldKeys[3 * b], oldKeys[3 * b + 1], oldKeys[3 * b + 2]) - 1;
        System.arraycopy(oldKeys, 3 * b, keys, 3 * to, 3);
        values[to] = oldValues[b];
      }
    }
  }
}
