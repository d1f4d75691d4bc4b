package dev.torus.storage;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Small tmpfs mounts for tests that need a file system to run full. Mounting needs root: where it
 * fails, tests are skipped, except in CI ({@code CI=true}), which runs as root and must not skip.
 */
final class Tmpfs {
  private Tmpfs() {}

  /** Mounts a tmpfs of {@code size} (e.g. {@code 4m}) on {@code dir}, or skips the test. */
  static void mountOrSkip(Path dir, String size) throws IOException, InterruptedException {
    String error = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
    if (error == null) {
      return;
    }
    String why = "cannot mount a tmpfs on " + dir + " (" + error + ")";
    if ("true".equals(System.getenv("CI"))) {
      fail(why + "; CI runs as root and must run this test");
    }
    Assumptions.abort(why + "; run as root to test a full file system");
  }

  /** Changes the size of a mounted tmpfs. */
  static void resize(Path dir, String size) throws IOException, InterruptedException {
    String error = run("mount", "-o", "remount,size=" + size, dir.toString());
    if (error != null) {
      fail("cannot resize the tmpfs on " + dir + ": " + error);
    }
  }

  static void unmount(Path dir) throws IOException, InterruptedException {
    if (run("umount", dir.toString()) != null) {
      run("umount", "-l", dir.toString());
    }
  }

  /** Runs a command; returns null on success, else its output. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    } catch (IOException e) {
      return e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return p.waitFor() == 0 ? null : "exit " + p.exitValue() + ": " + out;
  }
}
