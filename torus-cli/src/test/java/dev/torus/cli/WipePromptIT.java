package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 'torusctl wipe' at a terminal asks to type YES, and wipes only then. The terminal is the pseudo
 * terminal that {@code script} (Debian's bsdutils, always installed) gives the child.
 */
final class WipePromptIT {
  static final Path SCRIPT = Path.of("/usr/bin/script");

  @TempDir
  Path dir;

  String meta() {
    return "--metadata=" + dir.resolve("metadata.db");
  }

  /** Runs torusctl at a terminal, typing {@code typed}; returns what the terminal showed. */
  String atTerminal(String typed, String... args) throws IOException, InterruptedException {
    String command = Processes.java("dev.torus.cli.TorusCtl", List.of(args)).stream()
        .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    Process p = new ProcessBuilder(SCRIPT.toString(), "-q", "-e", "-c", command, "/dev/null")
        .redirectErrorStream(true).redirectOutput(dir.resolve("terminal.txt").toFile()).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(typed.getBytes(StandardCharsets.UTF_8));
    }
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("torusctl finished").isTrue();
    return Files.readString(dir.resolve("terminal.txt")) + "\nexit " + p.exitValue();
  }

  @Test
  void wipesOnlyAfterYesIsTyped() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(SCRIPT), "no " + SCRIPT + " (package bsdutils)");
    Processes.torusctl(dir, meta(), "init").ok("init");
    Processes.torusctl(dir, meta(), "volume", "create-block", "keep", "1GiB").ok("create");

    assertThat(atTerminal("yes\n", meta(), "wipe"))
        .contains("This deletes all Torus metadata at embedded " + dir.resolve("metadata.db"))
        .contains("Please type `YES`, all caps, to confirm:")
        .contains("torusctl: not confirmed; nothing was wiped").endsWith("exit 1");
    assertThat(Processes.torusctl(dir, meta(), "volume", "list").ok("list").out()).contains("keep");

    assertThat(atTerminal("YES\n", meta(), "wipe"))
        .contains("Wiped all Torus metadata at embedded").endsWith("exit 0");
    Processes.torusctl(dir, meta(), "volume", "list").exits(23, "list after the wipe");
  }
}
