package dev.torus.internal.buffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The checksum after a replaced range, derived without the unchanged bytes, against the real one. */
final class Crc32cTest {
  private final Random random = new Random(42);

  @Test
  void aReplacedRangeGivesTheChecksumOfTheWholeNewContent() {
    for (int round = 0; round < 2000; round++) {
      int length = 1 + random.nextInt(round < 1000 ? 64 : 70_000);
      byte[] before = new byte[length];
      random.nextBytes(before);
      int from = random.nextInt(length + 1);
      int to = from + random.nextInt(length - from + 1);
      assertReplacing(before, from, to);
    }
  }

  @Test
  void rangesAtEitherEndAndTheWholeContentToo() {
    byte[] before = new byte[32768];
    random.nextBytes(before);
    assertReplacing(before, 0, 4096);
    assertReplacing(before, 28672, 32768);
    assertReplacing(before, 0, 32768);
    assertReplacing(before, 100, 101);
  }

  @Test
  void anEmptyRangeChangesNothing() {
    assertThat(Crc32c.afterReplacing(0x1234_5678, 0, 0, 4096)).isEqualTo(0x1234_5678);
  }

  @Test
  void farFromTheEndStillWorks() {
    // 3 GiB after the range: the exponent's high bits come into play.
    byte[] oldRange = {1, 2, 3};
    byte[] newRange = {4, 5, 6};
    int crc = 0xCAFE_BABE;
    int changed = Crc32c.afterReplacing(crc, Crc32c.of(oldRange, 0, 3), Crc32c.of(newRange, 0, 3),
        3L << 30);
    int back = Crc32c.afterReplacing(changed, Crc32c.of(newRange, 0, 3), Crc32c.of(oldRange, 0, 3),
        3L << 30);
    assertThat(changed).isNotEqualTo(crc);
    assertThat(back).isEqualTo(crc);
  }

  @Test
  void aNegativeTailIsRefused() {
    assertThatThrownBy(() -> Crc32c.afterReplacing(0, 1, 2, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
  }

  private void assertReplacing(byte[] before, int from, int to) {
    byte[] after = before.clone();
    byte[] replacement = new byte[to - from];
    random.nextBytes(replacement);
    System.arraycopy(replacement, 0, after, from, replacement.length);
    int derived = Crc32c.afterReplacing(Crc32c.of(before, 0, before.length),
        Crc32c.of(before, from, to - from), Crc32c.of(replacement, 0, replacement.length),
        before.length - to);
    assertThat(derived)
        .as("%d bytes, range %d to %d", before.length, from, to)
        .isEqualTo(Crc32c.of(after, 0, after.length));
  }
}
