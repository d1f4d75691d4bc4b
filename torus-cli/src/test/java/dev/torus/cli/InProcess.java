package dev.torus.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs torusctl in this JVM with a given client factory, capturing what it prints. */
final class InProcess {
  private InProcess() {}

  static Processes.Result torusctl(ClientFactory factory, String... args) {
    CommandLine cmd = TorusCtl.commandLine(factory);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    int exit = cmd.execute(args);
    return new Processes.Result(exit, out.toString(), err.toString());
  }
}
