package dev.torus.cli.ctl;

import dev.torus.cli.CliSession;
import dev.torus.cli.TorusCtl;
import dev.torus.server.options.ConnectionOptions;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Base of the torusctl subcommands: their output streams, connection options and session. */
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
    return root().open();
  }

  ConnectionOptions connection() {
    return root().connection();
  }

  private TorusCtl root() {
    return (TorusCtl) spec.root().userObject();
  }
}
