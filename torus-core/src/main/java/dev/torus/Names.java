package dev.torus;

import java.util.regex.Pattern;

/**
 * Validates the names users give to volumes and snapshots. Names become metadata keys, NBD export
 * names and file names, so they are restricted to a safe alphabet: letters, digits, {@code .},
 * {@code _} and {@code -}, starting with a letter or digit, at most 128 characters.
 */
public final class Names {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private Names() {}

  /** Returns the name, or fails with {@link ErrorCode#INVALID_ARGUMENT} saying what is allowed. */
  public static String checkVolumeName(String name) {
    return check("volume", name);
  }

  /** Returns the name, or fails with {@link ErrorCode#INVALID_ARGUMENT} saying what is allowed. */
  public static String checkSnapshotName(String name) {
    return check("snapshot", name);
  }

  private static String check(String kind, String name) {
    if (name.isEmpty()) {
      throw TorusExceptions.invalid(kind + " name is empty");
    }
    if (!NAME.matcher(name).matches()) {
      throw TorusExceptions.invalid(
          "invalid " + kind + " name '" + name + "': use 1-128 letters, digits, '.', '_' or '-',"
              + " starting with a letter or digit");
    }
    return name;
  }
}
