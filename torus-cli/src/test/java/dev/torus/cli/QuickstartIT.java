package dev.torus.cli;

import static dev.torus.nbd.ExternalTools.require;
import static dev.torus.nbd.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code bin/quickstart}, as a newcomer runs it: it serves the volume
 * {@code default} over NBD, keeps what was written across a restart, and stops on Ctrl-C.
 */
final class QuickstartIT {
  private static final Duration TOOL = Duration.ofMinutes(2);
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir
  Path dir;

  @Test
  void servesTheDefaultVolumeKeepsItsDataAcrossARestartAndStopsOnCtrlC() throws Exception {
    require("nbdinfo", "libnbd-bin");
    require("qemu-io", "qemu-utils");
    // This build already packaged Torus: tell the script not to build it again.
    Path stamp = ROOT.resolve("torus-cli/target/quickstart.stamp");
    Files.writeString(stamp, "");
    Files.setLastModifiedTime(stamp, FileTime.from(Instant.now()));
    int port = freePort();
    String uri = "nbd://127.0.0.1:" + port + "/default";

    Process first = quickstart(port, "first");
    try {
      awaitServing(first, uri, "first");
      assertThat(run(TOOL, "nbdinfo", "--size", uri).assertSuccess("nbdinfo").output().trim())
          .as("the default volume is 10 GiB").isEqualTo(Long.toString(10L << 30));
      run(TOOL, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 256k", "-c", "flush", uri)
          .assertSuccess("qemu-io write");
    } finally {
      ctrlC(first, "first");
    }

    Process second = quickstart(port, "second");
    try {
      awaitServing(second, uri, "second");
      String read = run(TOOL, "qemu-io", "-f", "raw", "-r", "-c", "read -P 0x5a 1M 256k", uri)
          .assertSuccess("qemu-io read").output();
      assertThat(read).doesNotContain("Pattern verification failed").contains("read 262144/262144");
    } finally {
      ctrlC(second, "second");
    }
  }

  private Process quickstart(int port, String name) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/quickstart").toString())
        .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log(name).toFile());
    pb.environment().put("TORUS_DATA", dir.resolve("torus-data").toString());
    pb.environment().put("TORUS_NBD", "127.0.0.1:" + port);
    pb.environment().put("TORUS_SIZE", "1GiB");
    return pb.start();
  }

  private Path log(String name) {
    return dir.resolve(name + ".log");
  }

  private void awaitServing(Process p, String uri, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("quickstart exited with " + p.exitValue() + ":\n" + output(name));
      }
      if (output(name).contains(" NBD at ") && run(TOOL, "nbdinfo", "--size", uri).exit() == 0) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("quickstart did not serve " + uri + " in 2 minutes:\n" + output(name));
  }

  /** What a terminal's Ctrl-C does: SIGINT to the process the script became (exec torusd). */
  private void ctrlC(Process p, String name) throws Exception {
    if (p.isAlive()) {
      run(TOOL, "kill", "-INT", Long.toString(p.pid())).assertSuccess("kill -INT");
    }
    if (!p.waitFor(1, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("quickstart did not stop on Ctrl-C:\n" + output(name));
    }
    assertThat(output(name)).contains("torusd: stopping");
  }

  private String output(String name) throws IOException {
    return Files.readString(log(name), StandardCharsets.UTF_8);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
