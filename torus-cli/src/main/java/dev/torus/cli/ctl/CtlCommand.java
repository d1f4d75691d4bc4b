package dev.torus.cli.ctl;

import dev.torus.cli.CliSession;
import dev.torus.cli.TorusCtl;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Base of the torusctl subcommands: their output streams and their session. */
abstract class CtlCommand {
  @Spec
  CommandSpec spec;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  CliSession open() {
    return ((TorusCtl) spec.root().userObject()).open();
  }
}
