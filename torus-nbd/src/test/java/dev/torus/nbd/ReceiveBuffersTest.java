package dev.torus.nbd;

import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.volume.ModelBlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's socket reads land in the block a WRITE payload is filling: the read handle asks
 * the transmission decoder first, as a transport's read loop would (allocate, read into it,
 * deliver it), and the pipeline wires that up.
 */
@ExtendWith(NoLeaks.class)
final class ReceiveBuffersTest {
  private static final int BLOCK = 4096;

  private final ByteBufAllocator blocks = new UnpooledByteBufAllocator(true);
  private final EmbeddedChannel channel = new EmbeddedChannel();

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  @Test
  void readsOfAPayloadGoIntoTheBlocksTheDecoderLends() {
    RequestDecoder decoder = new RequestDecoder(false, 1 << 20, BLOCK, blocks, BLOCK);
    channel.pipeline().addLast(decoder);
    ReceiveBuffers.install(channel.config()).attach(decoder);
    RecvByteBufAllocator.ExtendedHandle reads = newHandle();
    reads.reset(channel.config());
    byte[] data = new byte[2 * BLOCK];
    new Random(3).nextBytes(data);

    ByteBuf before = reads.allocate(channel.alloc());
    assertThat(Wire.root(before).alloc()).as("no request yet: the channel's buffer").isNotSameAs(blocks);
    before.release();
    channel.writeInbound(channel.alloc().buffer().writeBytes(
        hex("25609513 0000 0001 0000000000000001 0000000000000000 00002000")));
    for (int at = 0; at < data.length; at += BLOCK / 2) { // half a block per read
      ByteBuf lent = reads.allocate(channel.alloc());
      assertThat(Wire.root(lent).alloc()).as("read at %d", at).isSameAs(blocks);
      channel.writeInbound(lent.writeBytes(data, at, BLOCK / 2));
    }
    ByteBuf after = reads.allocate(channel.alloc());
    assertThat(Wire.root(after).alloc()).as("request complete: the channel's buffer").isNotSameAs(blocks);
    after.release();

    NbdRequest write = channel.readInbound();
    try {
      assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(data);
    } finally {
      write.payload().release();
    }
  }

  @Test
  void theTransmissionPipelineAttachesItsDecoder() {
    ModelBlockDevice device = new ModelBlockDevice(1 << 20, 65536);
    NbdPipeline.transmission(channel.pipeline(), new Export("m", device,
        Export.transmissionFlags(false, false, ReplyStyle.SIMPLE), ReplyStyle.SIMPLE, false,
        1 << 20, () -> { }), 16, new NbdStats());
    RecvByteBufAllocator.ExtendedHandle reads = newHandle();
    reads.reset(channel.config());

    channel.writeInbound(channel.alloc().buffer().writeBytes(
        hex("25609513 0000 0001 0000000000000001 0000000000000000 00020000")));
    ByteBuf lent = reads.allocate(channel.alloc());

    assertThat(lent.writableBytes())
        .as("both 64 KiB blocks of the write at once: the connection's read buffer, not a block")
        .isEqualTo(0x20000);
    lent.release();
  }

  private RecvByteBufAllocator.ExtendedHandle newHandle() {
    return (RecvByteBufAllocator.ExtendedHandle) channel.config().getRecvByteBufAllocator()
        .newHandle();
  }
}
