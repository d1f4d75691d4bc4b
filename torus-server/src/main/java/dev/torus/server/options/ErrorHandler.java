package dev.torus.server.options;

import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.io.PrintWriter;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * Turns a failed command into one line on stderr ({@code torusctl: <message>}) and an exit code;
 * the stack trace is printed only with {@code --debug}.
 */
public final class ErrorHandler implements IExecutionExceptionHandler {
  private final BooleanSupplier debug;

  public ErrorHandler(BooleanSupplier debug) {
    this.debug = debug;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    if (ex instanceof CommandLine.ParameterException pe) {
      err.println(cmd.getCommandSpec().root().name() + ": " + pe.getMessage());
      pe.getCommandLine().usage(err);
      return ExitCodes.USAGE;
    }
    TorusException te = TorusExceptions.unwrap(ex);
    err.println(cmd.getCommandSpec().root().name() + ": " + te.getMessage());
    if (debug.getAsBoolean()) {
      ex.printStackTrace(err);
    }
    err.flush();
    return ExitCodes.of(te.code());
  }
}
