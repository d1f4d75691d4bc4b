package dev.torus.transport.tcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A server that accepts one connection and plays a test's script on it, on its own thread. */
final class FakePeer implements AutoCloseable {
  interface Script {
    void play(RawSocket peer) throws Exception;
  }

  private final ServerSocket listener;
  private final Thread thread;
  private volatile @Nullable Socket accepted;

  FakePeer(Script script) {
    try {
      listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    thread = new Thread(() -> {
      try (Socket s = listener.accept()) {
        accepted = s;
        script.play(new RawSocket(s));
      } catch (Exception e) {
        // the client went away or the test closed the peer: the script ends
      }
    }, "fake-peer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Answers a HELLO as a version 1 server named {@code node} with {@code blockSize} would. */
  static void acceptHello(RawSocket peer, int blockSize, String node) throws IOException {
    RawSocket.Reply hello = peer.read();
    if (hello.type() != 0x01) {
      throw new AssertionError("expected HELLO, got " + hello);
    }
    peer.send(RawSocket.frame(0x81, 0, RawSocket.helloBody(1, 1, blockSize, node)));
  }

  String address() {
    return "tcp://127.0.0.1:" + listener.getLocalPort();
  }

  @Override
  public void close() throws IOException, InterruptedException {
    listener.close();
    Socket s = accepted;
    if (s != null) {
      s.close();
    }
    thread.join(TimeUnit.SECONDS.toMillis(5));
  }
}
