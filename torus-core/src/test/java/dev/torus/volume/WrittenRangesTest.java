package dev.torus.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

final class WrittenRangesTest {
  @Test
  void nothingWrittenLeavesTheWholeBlock() {
    assertThat(new WrittenRanges().gaps(100)).containsExactly(0, 100);
  }

  @Test
  void gapsAreWhatNoRangeCovers() {
    WrittenRanges w = new WrittenRanges();
    w.add(10, 20);
    w.add(50, 60);
    w.add(0, 5);
    assertThat(w.gaps(100)).containsExactly(5, 10, 20, 50, 60, 100);
  }

  @Test
  void overlappingAndTouchingRangesMerge() {
    WrittenRanges w = new WrittenRanges();
    w.add(10, 20);
    w.add(30, 40);
    w.add(20, 30); // touches both
    w.add(35, 45);
    assertThat(w.gaps(50)).containsExactly(0, 10, 45, 50);
    w.add(0, 50);
    assertThat(w.gaps(50)).isEmpty();
  }

  @Test
  void emptyRangesAreIgnored() {
    WrittenRanges w = new WrittenRanges();
    w.add(7, 7);
    assertThat(w.gaps(10)).containsExactly(0, 10);
  }

  @Test
  void randomRangesAgreeWithABitmap() {
    Random random = new Random(42);
    for (int round = 0; round < 500; round++) {
      int size = 1 + random.nextInt(64);
      boolean[] written = new boolean[size];
      WrittenRanges w = new WrittenRanges();
      for (int i = random.nextInt(6); i > 0; i--) {
        int start = random.nextInt(size);
        int end = start + random.nextInt(size - start + 1);
        w.add(start, end);
        for (int b = start; b < end; b++) {
          written[b] = true;
        }
      }
      boolean[] gaps = new boolean[size];
      int[] pairs = w.gaps(size);
      for (int i = 0; i < pairs.length; i += 2) {
        assertThat(pairs[i]).as("ordered, non-empty").isLessThan(pairs[i + 1]);
        if (i > 0) {
          assertThat(pairs[i]).as("disjoint").isGreaterThan(pairs[i - 1]);
        }
        for (int b = pairs[i]; b < pairs[i + 1]; b++) {
          gaps[b] = true;
        }
      }
      for (int b = 0; b < size; b++) {
        assertThat(gaps[b]).as("round %d byte %d", round, b).isEqualTo(!written[b]);
      }
    }
  }
}
