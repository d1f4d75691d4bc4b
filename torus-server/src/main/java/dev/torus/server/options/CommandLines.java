package dev.torus.server.options;

import java.util.function.BooleanSupplier;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine;

/** The behaviour every Torus command line shares: parsing rules, error output, exit codes. */
public final class CommandLines {
  private CommandLines() {}

  /**
   * Configures {@code cmd} for the program {@code name}: {@code -h/--help} and {@code
   * -V/--version} on every command and subcommand, enum values in any case, option values that
   * happen to equal a subcommand name ({@code --read-level block}), wrong arguments as one line
   * plus the usage (exit 2), and failures as one line with the code's exit status. {@code debug}
   * says whether to add stack traces; it is read after parsing. Add subcommands before calling.
   */
  public static CommandLine configure(CommandLine cmd, String name, BooleanSupplier debug) {
    addHelpOptions(cmd, cmd.getCommandSpec().versionProvider());
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

  /**
   * Adds the standard help options to {@code cmd} and its subcommands, which picocli gives only
   * to commands that ask for them in their annotation. Subcommands get the root's version, so
   * that {@code -V} never prints an empty line.
   */
  private static void addHelpOptions(CommandLine cmd, IVersionProvider version) {
    CommandSpec spec = cmd.getCommandSpec();
    spec.mixinStandardHelpOptions(true);
    if (spec.versionProvider() == null) {
      spec.versionProvider(version);
    }
    cmd.getSubcommands().values().forEach(sub -> addHelpOptions(sub, version));
  }
}
