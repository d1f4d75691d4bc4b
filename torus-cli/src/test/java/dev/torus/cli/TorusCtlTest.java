package dev.torus.cli;

import dev.torus.server.options.ExitCodes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

final class TorusCtlTest {
  final MemorySessions sessions = new MemorySessions();
  String out;
  String err;

  @AfterEach
  void tearDown() {
    sessions.close();
  }

  int run(String... args) {
    CommandLine cmd = TorusCtl.commandLine(sessions);
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    cmd.setOut(new PrintWriter(o));
    cmd.setErr(new PrintWriter(e));
    int code = cmd.execute(args);
    out = o.toString();
    err = e.toString();
    return code;
  }

  @Test
  void commandsBeforeInitSayRunInit() {
    assertThat(run("volume", "create-block", "v", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.NOT_INITIALIZED));
    assertThat(err).contains("torusctl init").doesNotContain("Exception");
  }

  @Test
  void initCreateListResizeDelete() {
    assertThat(run("init")).isZero();
    assertThat(out).contains("block size 64 KiB");
    assertThat(run("init")).isEqualTo(ExitCodes.of(ErrorCode.ALREADY_EXISTS));
    assertThat(run("init", "--view")).isZero();
    assertThat(out).contains("Block size: 65536 bytes").contains("Block spec: crc32c");
    assertThat(run("volume", "create-block", "db", "10GiB")).isZero();
    assertThat(run("block", "create", "web", "512MiB")).isZero();
    assertThat(run("volume", "list")).isZero();
    assertThat(out.lines()).hasSize(3);
    assertThat(out.lines().toList().get(0)).startsWith("NAME").contains("SIZE").contains("STATUS");
    assertThat(out).containsPattern("db\\s+10 GiB\\s+free").containsPattern("web\\s+512 MiB\\s+free");
    assertThat(run("volume", "list", "-o", "json")).isZero();
    assertThat(out).contains("\"name\": \"db\"").contains("\"size\": \"10 GiB\"");
    assertThat(run("volume", "list", "--output", "csv", "--bytes")).isZero();
    assertThat(out).contains("db,10737418240,free");
    assertThat(run("volume", "resize", "db", "20GiB")).isZero();
    assertThat(out).contains("now 20 GiB");
    assertThat(run("volume", "resize", "db", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("shrinking");
    assertThat(run("volume", "delete", "web")).isZero();
    assertThat(run("volume", "delete", "web")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(err).contains("volume 'web' does not exist");
  }

  @Test
  void wrongArgumentsPrintUsageAndOneLineReason() {
    run("init");
    assertThat(run("volume", "create-block", "v", "ten-gigs")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.lines().findFirst()).hasValueSatisfying(l -> assertThat(l).contains("invalid size 'ten-gigs'"));
    assertThat(err).contains("Usage:");
    assertThat(run("volume", "create-block", "v")).isEqualTo(ExitCodes.USAGE);
    assertThat(err).contains("Missing required parameter");
    assertThat(run("volume", "frobnicate")).isEqualTo(ExitCodes.USAGE);
    assertThat(run("block", "snapshot", "create", "novolume")).isEqualTo(ExitCodes.USAGE);
    assertThat(err).contains("VOLUME@SNAPSHOT");
    for (String bad : new String[] {"a/b", "..", "-x"}) {
      int code = run("volume", "create-block", bad, "1GiB");
      assertThat(code).as(bad).isIn(ExitCodes.USAGE, ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    }
    assertThat(run("volume", "create-block", "", "1GiB")).isEqualTo(ExitCodes.of(ErrorCode.INVALID_ARGUMENT));
    assertThat(err).contains("name is empty");
    assertThat(run("volume", "list")).isZero();
    assertThat(out.lines()).hasSize(1);
  }

  @Test
  void snapshotsAndClones() {
    run("init");
    run("volume", "create-block", "v", "1GiB");
    assertThat(run("block", "snapshot", "create", "v@monday")).isZero();
    assertThat(run("block", "snapshot", "create", "v@monday")).isEqualTo(ExitCodes.of(ErrorCode.ALREADY_EXISTS));
    assertThat(run("block", "snapshot", "create", "v@tuesday")).isZero();
    assertThat(run("block", "snapshot", "list", "v")).isZero();
    assertThat(out).containsPattern("(?s)monday.*tuesday");
    assertThat(run("block", "clone", "v@monday", "v2")).isZero();
    assertThat(out).contains("Cloned v@monday to volume v2");
    assertThat(run("volume", "list")).isZero();
    assertThat(out).containsPattern("v2\\s+1 GiB\\s+free\\s+\\S+\\s+v@monday");
    assertThat(run("block", "snapshot", "restore", "v@tuesday")).isZero();
    assertThat(run("block", "snapshot", "delete", "v@monday")).isZero();
    assertThat(run("block", "snapshot", "delete", "v@monday")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
    assertThat(run("block", "snapshot", "restore", "nope@x")).isEqualTo(ExitCodes.of(ErrorCode.NOT_FOUND));
  }
}
