package dev.torus.nbd;

import static dev.torus.internal.concurrent.Futures.join;
import static dev.torus.storage.Blocks.drain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.BlockVolume;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeFixture;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The volume resolver: shared opens, the write lock, and snapshots as read-only exports. */
final class VolumeExportsTest {
  final VolumeFixture f = VolumeFixture.inMemory(4096,
      VolumeConfig.DEFAULT.withCommitInterval(Duration.ZERO));
  final VolumeExports exports = ExportResolver.ofVolumes(f.volumes, false);

  @AfterEach
  void tearDown() throws Exception {
    exports.close();
    f.close();
  }

  @Test
  void connectionsShareOneVolumeAndTheLastOneCommitsAndUnlocks() {
    join(f.volumes.catalog().create("v", 1 << 20));
    BlockDevice a = join(exports.open("v", false));
    BlockDevice b = join(exports.open("v", false));
    join(a.write(0, Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
    assertThat(drain(join(b.read(0, 3)))).containsExactly(1, 2, 3);
    a.close();
    assertThatThrownBy(() -> join(f.volumes.openWritable("v")))
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.LOCKED));
    b.close();
    exports.close(); // waits for the commit and unlock of the last connection
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      assertThat(drain(join(v.read(0, 3)))).containsExactly(1, 2, 3);
    }
  }

  @Test
  void snapshotsAreReadOnlyExportsNamedVolumeAtSnapshot() {
    join(f.volumes.catalog().create("v", 1 << 20));
    try (BlockVolume v = join(f.volumes.openWritable("v"))) {
      join(v.write(0, Unpooled.wrappedBuffer(new byte[] {7})));
      join(v.snapshot("s"));
      join(v.write(0, Unpooled.wrappedBuffer(new byte[] {8})));
    }
    ExportInfo info = join(exports.describe("v@s"));
    assertThat(info.readOnly()).isTrue();
    assertThat(info.size()).isEqualTo(1 << 20);
    BlockDevice snap = join(exports.open("v@s", false));
    assertThat(snap.readOnly()).isTrue();
    assertThat(drain(join(snap.read(0, 1)))).containsExactly(7);
    snap.close();
    assertThatThrownBy(() -> join(exports.describe("v@missing")))
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
    assertThat(join(exports.list())).extracting(ExportInfo::name).containsExactly("v");
  }
}
