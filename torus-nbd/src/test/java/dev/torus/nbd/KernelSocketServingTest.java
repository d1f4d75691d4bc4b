package dev.torus.nbd;

import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.torus.volume.ModelBlockDevice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The server end of a real Unix socket pair, as {@link NbdKernelDevice} serves it, with the test
 * playing the kernel on the other end: transmission straight away, simple replies only.
 */
@ExtendWith(NoLeaks.class)
final class KernelSocketServingTest {
  private final ModelBlockDevice device = new ModelBlockDevice(1 << 20, 4096);
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private EpollFdServer server;
  private EventLoopGroup kernelLoop;
  private EpollDomainSocketChannel kernelSide;

  @BeforeEach
  void connect() throws Exception {
    assumeTrue(Epoll.isAvailable(), "kernel attach needs the native epoll transport (Linux)");
    int[] pair = new LinuxNbdSyscalls().socketPair();
    server = new EpollFdServer();
    server.serve(pair[1], new Export("/dev/nbd-test", device,
        Export.transmissionFlags(false, false, ReplyStyle.SIMPLE), ReplyStyle.SIMPLE, false,
        NbdServerConfig.DEFAULT_MAX_PAYLOAD, () -> {}));
    kernelLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    kernelSide = new EpollDomainSocketChannel(pair[0]);
    kernelSide.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
      @Override
      protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
        synchronized (received) {
          received.writeBytes(ByteBufUtil.getBytes(msg));
        }
      }
    });
    kernelLoop.register(kernelSide).sync();
  }

  @AfterEach
  void close() {
    if (server != null) {
      kernelSide.close().syncUninterruptibly();
      kernelLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      server.close();
    }
  }

  private void send(byte[] bytes) {
    kernelSide.writeAndFlush(Unpooled.wrappedBuffer(bytes)).syncUninterruptibly();
  }

  private byte[] receive(int n) throws InterruptedException {
    long deadline = System.nanoTime() + NbdTestClient.TIMEOUT.toNanos();
    while (true) {
      synchronized (received) {
        if (received.size() >= n) {
          byte[] all = received.toByteArray();
          received.reset();
          received.write(all, n, all.length - n);
          return Arrays.copyOf(all, n);
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no reply from the server");
      }
      Thread.sleep(5);
    }
  }

  @Test
  void servesTheKernelsRequestsWithSimpleReplies() throws Exception {
    // The kernel's cookie: command cookie << 32 | blk-mq tag.
    send(hex("25609513 0001 0001 0000000700000003 0000000000001000 00000004 cafebabe"));
    assertThat(receive(16)).isEqualTo(hex("67446698 00000000 0000000700000003"));
    assertThat(device.contents(0x1000, 4)).isEqualTo(hex("cafebabe"));
    assertThat(device.unflushedWrites()).isZero(); // FUA

    send(hex("25609513 0000 0000 0000000800000001 0000000000001000 00000004"));
    assertThat(receive(20)).isEqualTo(hex("67446698 00000000 0000000800000001 cafebabe"));

    send(hex("25609513 0000 0002 0000000900000002 0000000000000000 00000000"));
    assertThat(kernelSide.closeFuture().await(NbdTestClient.TIMEOUT.toMillis())).isTrue();
  }
}
