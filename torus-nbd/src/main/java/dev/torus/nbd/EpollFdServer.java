package dev.torus.nbd;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Serves NBD transmission on connected Unix sockets given as file descriptors, on one event-loop
 * thread of its own that polls as {@link NbdServerConfig#DEFAULT} says ({@link IdlePolling}). Only
 * the native epoll transport can adopt a file descriptor.
 */
final class EpollFdServer implements KernelSocketServer {
  private final EventLoopGroup group;

  EpollFdServer() {
    Epoll.ensureAvailability();
    this.group =
        new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("torus-nbd-kernel", true),
            NbdTransport.EPOLL.ioHandlerFactory(NbdServerConfig.DEFAULT.idlePoll()));
  }

  @Override
  public void serve(int fd, Export export) {
    EpollDomainSocketChannel channel = new EpollDomainSocketChannel(fd);
    // Nothing reads these counts: the kernel reports a device's traffic itself (/sys/block).
    NbdPipeline.transmission(channel.pipeline(), export, NbdServerConfig.DEFAULT.maxInFlight(),
        new NbdStats());
    group.register(channel).syncUninterruptibly();
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
