package dev.torus.metadata.embedded;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The metadata database file: opening it durably, creating or checking its schema, and turning
 * SQLite's failures into messages that name the file and say what to do.
 *
 * <p>On-disk format, schema version 1 (the file's {@code application_id} is "Toru"):
 *
 * <pre>
 * meta(name, value)    rows 'schema_version' and 'revision' (the global revision, 1 when empty)
 * kv(key, value, create_rev, mod_rev, version, lease)   one row per live key, WITHOUT ROWID;
 *                      keys compare as UTF-8 bytes (BINARY collation), the order etcd uses
 * lease(id, ttl_ms, expires_ms)   expiry in wall-clock millis, so every process agrees on it
 * </pre>
 *
 * A file with another application_id or schema version is refused, never converted silently.
 */
final class SqliteFile {
  static final int SCHEMA_VERSION = 1;
  static final int APPLICATION_ID = 0x546f7275; // "Toru"

  private SqliteFile() {}

  /**
   * A connection to {@code file} (absolute), created with its directory if needed, in WAL mode
   * with {@code synchronous=FULL} (every commit fsync'ed) and a busy timeout. Fails with {@code
   * UNAVAILABLE} if it cannot be opened, {@code CORRUPTED} if it is not a Torus metadata database,
   * {@code NOT_SUPPORTED} if a newer Torus wrote it.
   */
  static Connection open(Path file, Duration busyTimeout) {
    if (Files.isDirectory(file)) {
      throw cannotOpen(file, "it is a directory", null);
    }
    Path dir = file.getParent();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      String why = e instanceof FileAlreadyExistsException ? "a file that is not a directory is"
          + " in the way" : e instanceof AccessDeniedException ? "permission denied"
          : String.valueOf(e.getMessage());
      throw cannotOpen(file, "cannot create directory " + dir + " (" + why + ")", e);
    }
    Connection conn = null;
    try {
      conn = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement s = conn.createStatement()) {
        s.execute("PRAGMA busy_timeout = " + busyTimeout.toMillis());
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          String mode = rs.next() ? rs.getString(1) : "?";
          if (!"wal".equalsIgnoreCase(mode)) {
            throw cannotOpen(file, "SQLite refused write-ahead logging (journal mode " + mode
                + ")", null);
          }
        }
        s.execute("PRAGMA synchronous = FULL");
        s.execute("BEGIN IMMEDIATE"); // waits out other processes for up to busyTimeout
        boolean committed = false;
        try {
          checkOrCreateSchema(conn, file);
          s.execute("COMMIT");
          committed = true;
        } finally {
          if (!committed) {
            s.execute("ROLLBACK");
          }
        }
      }
      return conn;
    } catch (SQLException e) {
      closeQuietly(conn);
      TorusException t = translate(file, e);
      throw t.code() == ErrorCode.UNAVAILABLE ? cannotOpen(file, reason(e), e) : t;
    } catch (RuntimeException e) {
      closeQuietly(conn);
      throw e;
    }
  }

  private static void checkOrCreateSchema(Connection conn, Path file) throws SQLException {
    int appId = (int) queryLong(conn, file, "PRAGMA application_id");
    boolean empty = queryLong(conn, file, "SELECT count(*) FROM sqlite_master") == 0;
    if (appId == 0 && empty) {
      try (Statement s = conn.createStatement()) {
        s.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
        s.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
            + " create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,"
            + " version INTEGER NOT NULL, lease INTEGER NOT NULL) WITHOUT ROWID");
        s.execute("CREATE INDEX kv_lease ON kv (lease) WHERE lease != 0");
        s.execute("CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL,"
            + " expires_ms INTEGER NOT NULL)");
        s.execute("CREATE INDEX lease_expiry ON lease (expires_ms)");
        s.execute("INSERT INTO meta VALUES ('schema_version', " + SCHEMA_VERSION + "), "
            + "('revision', 1)");
        s.execute("PRAGMA application_id = " + APPLICATION_ID);
      }
      return;
    }
    if (appId != APPLICATION_ID) {
      throw new TorusException(ErrorCode.CORRUPTED, "cannot open the metadata database " + file
          + ": it is an SQLite database of another program (application_id " + appId
          + "), not Torus metadata; point Torus at another file or move this one away");
    }
    long version = queryLong(conn, file, "SELECT value FROM meta WHERE name = 'schema_version'");
    if (version != SCHEMA_VERSION) {
      throw new TorusException(ErrorCode.NOT_SUPPORTED, "cannot open the metadata database "
          + file + ": it has format version " + version + " and this Torus reads only version "
          + SCHEMA_VERSION + "; use the Torus release that wrote it (or a newer one)");
    }
  }

  /** The single number {@code sql} selects; a missing row means the file was damaged. */
  static long queryLong(Connection conn, Path file, String sql) throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) {
        throw new TorusException(ErrorCode.CORRUPTED, "the metadata database " + file
            + " lacks what '" + sql + "' reads; restore it from a backup");
      }
      return rs.getLong(1);
    }
  }

  /** Whether another connection holds the lock: the transaction applied nothing. */
  static boolean isBusy(SQLException e) {
    int primary = e.getErrorCode() & 0xff;
    return primary == SQLiteErrorCode.SQLITE_BUSY.code
        || primary == SQLiteErrorCode.SQLITE_LOCKED.code;
  }

  /** A failure of {@code file} as a Torus failure: full disk, damaged file, or unavailable. */
  static TorusException translate(Path file, SQLException e) {
    int primary = e.getErrorCode() & 0xff;
    if (primary == SQLiteErrorCode.SQLITE_FULL.code) {
      return new TorusException(ErrorCode.OUT_OF_SPACE, "the metadata database " + file
          + " cannot grow: the disk is full; free space and retry", e);
    }
    if (primary == SQLiteErrorCode.SQLITE_NOTADB.code
        || primary == SQLiteErrorCode.SQLITE_CORRUPT.code) {
      return new TorusException(ErrorCode.CORRUPTED, "the metadata database " + file
          + " is damaged or not an SQLite file (" + reason(e) + "); restore it from a backup or"
          + " point Torus at another file", e);
    }
    return TorusExceptions.unavailable("the metadata database " + file + " failed: " + reason(e),
        e);
  }

  private static TorusException cannotOpen(Path file, String reason, @Nullable Exception cause) {
    return TorusExceptions.unavailable("cannot open the metadata database " + file + ": " + reason
        + "; fix that, or choose another file with $" + EmbeddedMetadata.LOCATION_VARIABLE, cause);
  }

  private static String reason(SQLException e) {
    if (e instanceof SQLiteException se) {
      return se.getResultCode().message + " [" + se.getResultCode().name() + "]";
    }
    return String.valueOf(e.getMessage());
  }

  static void closeQuietly(@Nullable Connection conn) {
    if (conn == null) {
      return;
    }
    try {
      conn.close();
    } catch (SQLException e) {
      // closing releases the file locks even when it reports an error
    }
  }
}
