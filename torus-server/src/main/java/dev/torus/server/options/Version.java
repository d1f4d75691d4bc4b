package dev.torus.server.options;

import picocli.CommandLine.IVersionProvider;

/** The program and version from the jar manifest (or "development" when run from classes). */
public final class Version implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Version.class.getPackage().getImplementationVersion();
    return new String[] {"${ROOT-COMMAND-NAME} " + (v == null ? "development" : v)};
  }
}
