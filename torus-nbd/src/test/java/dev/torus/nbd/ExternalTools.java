package dev.torus.nbd;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real programs integration tests talk to. A missing program skips the test with the
 * Debian package to install, except on CI ({@code CI=true}), which installs them all and where a
 * missing one must fail.
 */
public final class ExternalTools {
  private ExternalTools() {}

  /** The result of a finished program: exit status and everything it printed. */
  public record Result(int exit, String output) {
    public Result assertSuccess(String what) {
      if (exit != 0) {
        fail(what + " exited with " + exit + ":\n" + output);
      }
      return this;
    }
  }

  /** Skips (or on CI fails) the test unless {@code program} is on the PATH. */
  public static void require(String program, String debianPackage) {
    if (find(program) == null) {
      missing(program + " is not installed (Debian package " + debianPackage + ")");
    }
  }

  /** Skips (or on CI fails) the test unless it runs as root. */
  public static void requireRoot(String why) {
    if (!"root".equals(System.getProperty("user.name"))) {
      missing(why + " needs root");
    }
  }

  /** Runs a program to completion, failing the test if it takes longer than {@code timeout}. */
  public static Result run(Duration timeout, String... command) {
    Process p = start(command);
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> slurp(p));
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " did not finish within " + timeout + ":\n"
            + output.getNow(""));
      }
      return new Result(p.exitValue(), output.get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      p.destroyForcibly();
      throw new AssertionError("running " + String.join(" ", command), e);
    }
  }

  /** Starts a program in the background, output merged; the caller stops it. */
  public static Process start(String... command) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      // python3-libnbd lives in Debian's python; keep /usr/bin first for tools that embed it.
      pb.environment().put("PATH", "/usr/bin:/usr/sbin:/bin:/sbin:" + System.getenv("PATH"));
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String slurp(Process p) {
    try (InputStream in = p.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static Path find(String program) {
    String path = "/usr/bin:/usr/sbin:/bin:/sbin:" + System.getenv("PATH");
    for (String dir : path.split(":")) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static void missing(String message) {
    if ("true".equals(System.getenv("CI"))) {
      fail(message + "; CI must provide it (.ci/run installs the test peers)");
    }
    Assumptions.abort(message + "; skipping");
  }

  /** Lines of {@code output} that start with {@code prefix}, for parsing tool output. */
  static List<String> lines(String output, String prefix) {
    return output.lines().map(String::strip).filter(l -> l.startsWith(prefix)).toList();
  }
}
