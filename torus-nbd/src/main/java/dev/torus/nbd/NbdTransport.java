package dev.torus.nbd;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The Netty transport a server runs on: native epoll on Linux (fewer copies and less garbage per
 * request than NIO, and the only way to serve a socket the kernel hands over as a file descriptor),
 * JDK NIO elsewhere. Both serve TCP and Unix domain sockets.
 */
enum NbdTransport {
  EPOLL {
    @Override
    IoHandlerFactory ioHandlerFactory(Duration idlePoll) {
      return EpollIoHandler.newFactory(0, IdlePolling.factory(idlePoll));
    }

    @Override
    Class<? extends ServerChannel> tcpChannel() {
      return EpollServerSocketChannel.class;
    }

    @Override
    Class<? extends ServerChannel> unixChannel() {
      return EpollServerDomainSocketChannel.class;
    }

    @Override
    SocketAddress unixAddress(Path path) {
      return new DomainSocketAddress(path.toString());
    }
  },
  NIO {
    @Override
    IoHandlerFactory ioHandlerFactory(Duration idlePoll) {
      return NioIoHandler.newFactory(SelectorProvider.provider(), IdlePolling.factory(idlePoll));
    }

    @Override
    Class<? extends ServerChannel> tcpChannel() {
      return NioServerSocketChannel.class;
    }

    @Override
    Class<? extends ServerChannel> unixChannel() {
      return NioServerDomainSocketChannel.class;
    }

    @Override
    SocketAddress unixAddress(Path path) {
      return UnixDomainSocketAddress.of(path);
    }
  };

  /** Event loops that poll for {@code idlePoll} before they sleep ({@link IdlePolling}). */
  abstract IoHandlerFactory ioHandlerFactory(Duration idlePoll);

  abstract Class<? extends ServerChannel> tcpChannel();

  abstract Class<? extends ServerChannel> unixChannel();

  abstract SocketAddress unixAddress(Path path);

  /** Epoll where the native library loads, NIO otherwise. */
  static NbdTransport best() {
    return Epoll.isAvailable() ? EPOLL : NIO;
  }
}
