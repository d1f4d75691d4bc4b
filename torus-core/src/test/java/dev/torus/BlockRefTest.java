package dev.torus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockRefTest {
  @Test
  void wireFormRoundTrips() {
    BlockRef ref = new BlockRef(new VolumeId(7), 12, 345_678, BlockType.MAP);
    assertThat(BlockRef.fromBytes(ref.toBytes())).isEqualTo(ref).hasSameHashCodeAs(ref);
    assertThat(ref).isNotEqualTo(new BlockRef(new VolumeId(7), 12, 345_678, BlockType.DATA));
  }

  @Test
  void refsOfManySessionsAndIndexesHashApart() {
    // What a store holds after a volume ran many sessions: small inodes and dense indexes.
    Set<Integer> hashes = new HashSet<>();
    int refs = 0;
    for (long inode = 1; inode <= 64; inode++) {
      for (long index = 0; index < 4096; index++) {
        hashes.add(new BlockRef(new VolumeId(1), inode, index, BlockType.DATA).hashCode());
        refs++;
      }
    }
    assertThat(hashes.size()).isGreaterThan(refs * 99 / 100);
  }

  @Test
  void rejectsImpossibleParts() {
    assertThatThrownBy(() -> new BlockRef(new VolumeId(1), 0, 0, BlockType.DATA))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inode");
    assertThatThrownBy(() -> BlockRef.fromBytes(new byte[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("24 bytes");
  }
}
