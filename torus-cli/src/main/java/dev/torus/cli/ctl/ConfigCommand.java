package dev.torus.cli.ctl;

import dev.torus.server.options.ConfigFile;
import dev.torus.server.options.ConnectionOptions;
import dev.torus.server.options.ConnectionProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code torusctl config}: writes the connection settings given on its command line into a
 * profile of the config file, so that later commands need only {@code --profile} (or nothing, for
 * the default profile).
 */
@Command(name = "config",
    description = {"Save connection settings in a profile of the config file (default"
        + " ~/.torus/config.json, readable by you only), or print the file with --view.",
        "Settings given replace the profile's; -C drops its embedded file, --metadata its etcd"
            + " settings. Every tool reads the profile; its own flags win over it."})
public final class ConfigCommand extends CtlCommand implements Callable<Integer> {
  @Option(names = "--view", description = "print the config file")
  boolean view;

  @Override
  public Integer call() throws IOException {
    ConnectionOptions options = connection();
    Path file = options.configFile();
    if (view) {
      ConfigFile.read(file); // says clearly what is wrong with a broken file
      out().print(Files.readString(file, StandardCharsets.UTF_8));
      out().flush();
      return 0;
    }
    ConnectionProfile given = options.commandLine();
    if (given.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "nothing to save: give -C"
          + " HOST:PORT (and --etcd-cert-file, --etcd-key-file, --etcd-ca-file for TLS) or"
          + " --metadata PATH; --view prints the file");
    }
    ConfigFile current = Files.exists(file) ? ConfigFile.read(file) : ConfigFile.empty();
    String name = options.profileName();
    ConnectionProfile updated = current.profile(name).orElse(ConnectionProfile.EMPTY)
        .overriddenBy(given.absolute());
    updated.location(); // refuses a profile without a store, bad endpoints and TLS files now
    current.with(name, updated).write(file);
    out().println("Saved profile '" + name + "' in " + file + ": " + updated.describe());
    return 0;
  }
}
