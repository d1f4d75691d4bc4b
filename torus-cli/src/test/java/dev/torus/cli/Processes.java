package dev.torus.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs torusd, torusctl and torusblk as real child JVMs with this JVM's class path, the way
 * bin/torusd and friends run them.
 */
final class Processes {
  private Processes() {}

  static List<String> java(String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", // as bin/launch: no warnings on Java 24 and later
        "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(args);
    return cmd;
  }

  /** The result of a finished command. */
  record Result(int exit, String out, String err) {
    Result ok(String what) {
      return exits(0, what);
    }

    Result exits(int expected, String what) {
      if (exit != expected) {
        throw new AssertionError(what + " exited " + exit + ", not " + expected + "\nstdout: " + out
            + "\nstderr: " + err);
      }
      return this;
    }
  }

  /** Runs {@code torusctl args} to completion. */
  static Result torusctl(Path dir, String... args) {
    return run(dir, "dev.torus.cli.TorusCtl", List.of(args));
  }

  static Result run(Path dir, String mainClass, List<String> args) {
    try {
      Path out = Files.createTempFile(dir, "out", ".txt");
      Path err = Files.createTempFile(dir, "err", ".txt");
      Process p = new ProcessBuilder(java(mainClass, args)).redirectOutput(out.toFile())
          .redirectError(err.toFile()).start();
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(mainClass + " " + args + " did not finish in 3 minutes");
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A running torusd, started on a free port; its log goes to {@code <dataDir>.log}. */
  static final class Node implements AutoCloseable {
    /** The whole line, up to its newline: the log may be read while the line is half written. */
    private static final Pattern SERVING =
        Pattern.compile("torusd (\\S+) serving peers at (\\S+?)[,\\s][^\\n]*\\n");

    final Path dataDir;
    final Path log;
    private final List<String> args;
    Process process;
    String id;
    String address;

    Node(Path dataDir, String... args) {
      this.dataDir = dataDir;
      this.log = Path.of(dataDir + ".log");
      this.args = List.of(args);
    }

    Node start() {
      List<String> all = new ArrayList<>(List.of("--data-dir", dataDir.toString(),
          "--peer-address", "tcp://127.0.0.1:0"));
      all.addAll(args);
      try {
        process = new ProcessBuilder(java("dev.torus.server.TorusDaemon", all))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < deadline) {
          Matcher m = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
          if (m.find()) {
            id = m.group(1);
            address = m.group(2);
            return this;
          }
          if (!process.isAlive()) {
            throw new AssertionError("torusd exited " + process.exitValue() + ":\n" + Files.readString(log));
          }
          Thread.sleep(100);
        }
        throw new AssertionError("torusd did not start within a minute:\n" + Files.readString(log));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** SIGKILL: no shutdown hooks, no flush, no deregistration. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }

    /** SIGTERM, waiting for the clean stop; returns the exit code. */
    int stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(1, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("torusd did not stop within a minute of SIGTERM");
      }
      return process.exitValue();
    }

    String log() throws IOException {
      return Files.readString(log, StandardCharsets.UTF_8);
    }

    /**
     * Waits up to a minute for {@code pattern} in the log. {@link #start()} returns at the log
     * line that says the node serves peers, and torusd prints what else it serves just after.
     */
    Matcher awaitLog(Pattern pattern) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (true) {
        String text = log();
        Matcher m = pattern.matcher(text);
        if (m.find()) {
          return m;
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no " + pattern + " in torusd's log within a minute:\n" + text);
        }
        Thread.sleep(50);
      }
    }

    @Override
    public void close() throws InterruptedException {
      if (process != null && process.isAlive()) {
        kill();
      }
    }
  }
}
