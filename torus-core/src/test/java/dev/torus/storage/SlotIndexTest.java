package dev.torus.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class SlotIndexTest {
  private record Key(long word, long inode, long index) {}

  @Test
  void matchesAHashMapUnderRandomPutsAndRemoves() {
    // A small key space forces long probe runs, wrap-around and many backward shifts.
    SplittableRandom random = new SplittableRandom(42);
    SlotIndex index = new SlotIndex(0);
    Map<Key, Long> model = new HashMap<>();
    for (int op = 0; op < 300_000; op++) {
      Key k = new Key(1 + random.nextInt(3), 1 + random.nextInt(50), random.nextInt(100));
      if (random.nextInt(3) == 0) {
        Long expected = model.remove(k);
        assertThat(index.remove(k.word, k.inode, k.index))
            .isEqualTo(expected == null ? SlotIndex.ABSENT : expected);
      } else {
        long packed = SlotIndex.pack(random.nextInt(Integer.MAX_VALUE), random.nextInt());
        Long expected = model.put(k, packed);
        assertThat(index.put(k.word, k.inode, k.index, packed))
            .isEqualTo(expected == null ? SlotIndex.ABSENT : expected);
      }
      if (op % 10_000 == 0) {
        assertSameContent(index, model);
      }
    }
    assertSameContent(index, model);
    for (Key k : List.copyOf(model.keySet())) {
      index.remove(k.word, k.inode, k.index);
    }
    assertThat(index.size()).isZero();
  }

  @Test
  void packKeepsSlotAndCrcApart() {
    long packed = SlotIndex.pack(Integer.MAX_VALUE, -1);
    assertThat(packed).isNotNegative().isNotEqualTo(SlotIndex.ABSENT);
    assertThat(SlotIndex.slot(packed)).isEqualTo(Integer.MAX_VALUE);
    assertThat(SlotIndex.crc(packed)).isEqualTo(-1);
    assertThat(SlotIndex.slot(SlotIndex.pack(0, 0x8000_0000))).isZero();
  }

  @Test
  void aMillionBlocksTakeTensOfMegabytes() {
    SlotIndex index = new SlotIndex(0);
    long emptyBytes = index.memoryBytes();
    for (int i = 0; i < 1_000_000; i++) {
      index.put(1, 1 + i / 4096, i % 4096, SlotIndex.pack(i, i * 31));
    }
    assertThat(emptyBytes).as("an empty index does not size itself by capacity").isLessThan(1024);
    assertThat(index.memoryBytes()).isLessThanOrEqualTo(64L << 20);
    assertThat(index.get(1, 1 + 999_999 / 4096, 999_999 % 4096))
        .isEqualTo(SlotIndex.pack(999_999, 999_999 * 31));
  }

  private static void assertSameContent(SlotIndex index, Map<Key, Long> model) {
    assertThat(index.size()).isEqualTo(model.size());
    Map<Key, Long> seen = new HashMap<>();
    index.forEach((w, inode, i, slot, crc) -> seen.put(new Key(w, inode, i), SlotIndex.pack(slot, crc)));
    assertThat(seen).isEqualTo(model);
    model.forEach((k, v) -> assertThat(index.get(k.word, k.inode, k.index)).isEqualTo(v));
  }
}
