package dev.torus.metadata.etcd;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A real single-member etcd, Debian's {@code etcd} binary ({@code etcd-server} package), on
 * loopback ports with its own data directory. It can be stopped, killed and restarted with the
 * same ports and data, which is how tests take etcd away from a client and give it back. Not
 * thread-safe: one test drives it.
 *
 * <p>Ports are picked free just before the start; if etcd still fails to bind one (another
 * process took it in between), it starts again on new ports. A restart keeps the ports, because
 * clients hold them, and retries a few times while the old socket is released.
 */
public final class EtcdProcess implements AutoCloseable {
  /** Where Debian installs etcd; PATH is searched too. */
  public static final Path DEBIAN_BINARY = Path.of("/usr/bin/etcd");

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
  private static final int START_ATTEMPTS = 5;

  private final Path binary;
  private final Path dataDir;
  private final Path log;
  private int clientPort;
  private int peerPort;
  private @Nullable Process process;

  private EtcdProcess(Path binary, Path baseDir) {
    this.binary = binary;
    this.dataDir = baseDir.resolve("data");
    this.log = baseDir.resolve("etcd.log");
  }

  /** The etcd binary: {@code /usr/bin/etcd} or the first {@code etcd} on PATH. */
  public static Optional<Path> findBinary() {
    if (Files.isExecutable(DEBIAN_BINARY)) {
      return Optional.of(DEBIAN_BINARY);
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Stream.of(path.split(":")).map(d -> Path.of(d, "etcd")).filter(Files::isExecutable)
        .findFirst();
  }

  /**
   * Starts etcd with a fresh data directory under a new temporary directory. Fails with {@link
   * IllegalStateException} if the binary is missing (install the Debian package {@code
   * etcd-server}) or etcd does not become healthy.
   */
  public static EtcdProcess start() {
    Path binary = findBinary().orElseThrow(() -> new IllegalStateException(
        "etcd is not installed: install the Debian package etcd-server (apt-get install"
            + " etcd-server), or put an etcd binary on PATH"));
    try {
      EtcdProcess etcd = new EtcdProcess(binary, Files.createTempDirectory("torus-etcd-"));
      etcd.startOnFreePorts();
      return etcd;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void startOnFreePorts() {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      clientPort = freePort();
      peerPort = freePort();
      try {
        launch();
        return;
      } catch (IllegalStateException e) {
        last = e;
        deleteTree(dataDir); // a member that never started leaves a half-made data dir
      }
    }
    throw last;
  }

  /** The client URL, e.g. {@code http://127.0.0.1:40123}. */
  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  /** The client address as {@code HOST:PORT}, the form {@code --etcd} takes. */
  public String hostPort() {
    return "127.0.0.1:" + clientPort;
  }

  /** The client port. */
  public int clientPort() {
    return clientPort;
  }

  /** Whether the process is running. */
  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Stops etcd gracefully (SIGTERM) and waits for it to exit. */
  public void stop() {
    end(false);
  }

  /** Kills etcd (SIGKILL), as a crash or power loss of its machine would. */
  public void kill() {
    end(true);
  }

  /** Starts the same member again: same ports, same data. */
  public void restart() {
    if (isRunning()) {
      throw new IllegalStateException("etcd is still running; stop or kill it first");
    }
    IllegalStateException last = null;
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      try {
        launch();
        return;
      } catch (IllegalStateException e) {
        last = e;
        sleep(Duration.ofMillis(500)); // the old listening socket may linger for a moment
      }
    }
    throw last;
  }

  /** Runs {@code etcdctl} with this member as endpoint; returns its output. For compaction etc. */
  public String etcdctl(String... args) {
    Path ctl = binary.resolveSibling("etcdctl");
    List<String> cmd = new ArrayList<>(List.of(ctl.toString(), "--endpoints",
        endpoint()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("etcdctl " + String.join(" ", args) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Kills etcd and deletes its data. Idempotent. */
  @Override
  public void close() {
    end(true);
    deleteTree(dataDir.getParent());
  }

  private void launch() {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    ProcessBuilder pb = new ProcessBuilder(binary.toString(),
        "--name", "torus-test",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "torus-test=" + peer,
        "--initial-cluster-state", "new")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (!healthy()) {
      if (!process.isAlive()) {
        throw new IllegalStateException("etcd exited with " + process.exitValue()
            + " before it was healthy; its log ends with:\n" + logTail());
      }
      if (System.nanoTime() > deadline) {
        end(true);
        throw new IllegalStateException("etcd was not healthy within " + READY_TIMEOUT
            + "; its log ends with:\n" + logTail());
      }
      sleep(Duration.ofMillis(100));
    }
  }

  private boolean healthy() {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/health").toURL()
          .openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(1000);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"true\"");
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  private void end(boolean kill) {
    Process p = process;
    if (p == null) {
      return;
    }
    if (kill) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** The last lines of etcd's log, for failure messages. */
  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
