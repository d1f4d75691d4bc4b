package dev.torus.server.options;

import java.util.function.BooleanSupplier;
import picocli.CommandLine;

/** The behaviour every Torus command line shares: parsing rules, error output, exit codes. */
public final class CommandLines {
  private CommandLines() {}

  /**
   * Configures {@code cmd} for the program {@code name}: enum values in any case, option values
   * that happen to equal a subcommand name ({@code --read-level block}), wrong arguments as one
   * line plus the usage (exit 2), and failures as one line with the code's exit status.
   * {@code debug} says whether to add stack traces; it is read after parsing.
   */
  public static CommandLine configure(CommandLine cmd, String name, BooleanSupplier debug) {
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setAllowSubcommandsAsOptionParameters(true);
    cmd.setExecutionExceptionHandler(new ErrorHandler(debug));
    cmd.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println(name + ": " + ex.getMessage());
      ex.getCommandLine().usage(ex.getCommandLine().getErr());
      return ExitCodes.USAGE;
    });
    return cmd;
  }
}
