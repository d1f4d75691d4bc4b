package dev.torus.nbd;

import static dev.torus.nbd.NbdTestClient.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.nbd.NbdTestClient.Descriptor;
import dev.torus.nbd.NbdTestClient.Reply;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.ModelBlockDevice;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Extended headers, which libnbd 1.14 on the build machines does not speak: 64-bit effect lengths,
 * payload lengths in the header, every reply a 32-byte chunk.
 */
@ExtendWith(NoLeaks.class)
final class ExtendedHeadersTest {
  private static final byte[] NONE = new byte[0];
  /** 8 GiB in 1 MiB blocks: bigger than any 32-bit length. */
  private static final long SIZE = 8L << 30;

  private final ModelBlockDevice big = new ModelBlockDevice(SIZE, 1 << 20);
  private final NbdServer server = NbdServer.start(
      NbdServerConfig.builder().port(0).ioThreads(1).build(),
      ExportResolver.ofDevices(Map.<String, BlockDevice>of("big", big)));
  private final NbdTestClient c = NbdTestClient.open(server.boundAddress(), "big", Mode.EXTENDED);

  @AfterEach
  void close() {
    c.close();
    server.close();
  }

  @Test
  void zeroingTrimmingAndStatusTakeLengthsBeyond4GiB() {
    long fiveGiB = 5L << 30;
    c.write(0, new byte[] {1});
    c.write(fiveGiB - 1, new byte[] {2});
    c.write(fiveGiB, new byte[] {3});

    assertThat(c.call(0, CMD_BLOCK_STATUS, 0, fiveGiB + (1 << 20), NONE).descriptors())
        .startsWith(new Descriptor(1 << 20, 0), new Descriptor(fiveGiB - (2 << 20), 3));
    assertThat(c.call(0, CMD_WRITE_ZEROES, 0, fiveGiB, NONE).ok()).isTrue();

    assertThat(big.isAllocated(0)).isFalse();
    assertThat(big.isAllocated(fiveGiB / (1 << 20) - 1)).isFalse();
    assertThat(big.contents(fiveGiB, 1)).containsExactly(3);
    assertThat(c.call(0, CMD_TRIM, 0, SIZE, NONE).ok()).isTrue();
    assertThat(big.isAllocated(fiveGiB / (1 << 20))).isFalse();
  }

  @Test
  void statusDescriptorsAre64BitAndSpanLargeHoles() {
    Reply r = c.call(0, CMD_BLOCK_STATUS, 0, SIZE, NONE);

    assertThat(r.chunks()).extracting(NbdTestClient.Chunk::type)
        .containsExactly(TYPE_BLOCK_STATUS_EXT);
    assertThat(r.descriptors()).containsExactly(new Descriptor(SIZE, 3));
  }

  @Test
  void compactStatusStaysWithin32BitDescriptors() {
    try (NbdTestClient compact = NbdTestClient.open(server.boundAddress(), "big",
        Mode.STRUCTURED)) {
      Reply r = compact.call(0, CMD_BLOCK_STATUS, 0, 0xffffffffL, NONE);

      assertThat(r.descriptors()).containsExactly(
          new Descriptor(TransmissionHandler.MAX_STATUS_SPAN, 3));
    }
  }

  @Test
  void writesMustCarryPayloadLen() {
    c.sendRequest(0, CMD_WRITE, 5, 0, 4, NONE); // effect length 4, no payload follows
    c.sendRequest(0, CMD_FLUSH, 6, 0, 0, NONE);

    Map<Long, Reply> replies = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      Reply r = c.readReplyFor(5, 6);
      replies.put(r.cookie(), r);
    }
    assertThat(replies.get(5L).error()).isEqualTo(EINVAL);
    assertThat(replies.get(6L).ok()).isTrue();
    assertThat(big.isAllocated(0)).isFalse();
  }

  @Test
  void unexpectedPayloadsAreConsumedAndRefused() {
    c.sendRequest(CMD_FLAG_PAYLOAD_LEN, CMD_READ, 7, 0, 3, new byte[] {1, 2, 3});

    assertThat(c.readReplyFor(7).error()).isEqualTo(EINVAL);
    assertThat(c.read(0, 2)).containsExactly(0, 0); // still in sync
  }

  @Test
  void successWithoutDataIsANoneChunkEchoingTheOffset() {
    Reply r = c.call(0, CMD_FLUSH, 0, 0, NONE);

    assertThat(r.chunks()).extracting(NbdTestClient.Chunk::type).containsExactly(TYPE_NONE);
  }
}
