package dev.torus.metadata.embedded;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.kv.Compare;
import dev.torus.metadata.kv.KeyValue;
import dev.torus.metadata.kv.KvOp;
import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.Range;
import dev.torus.metadata.kv.Txn;
import dev.torus.metadata.kv.TxnResult;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * A {@link KvStore} in one SQLite file, with etcd's semantics, shared by every process on the host
 * that opens the same file.
 */
final class SqliteKvStore implements KvStore {
  /*
   * On-disk format (schema version 1; the file's application_id is "Toru"):
   *   meta(name, value)   rows 'schema_version' and 'revision' (the global revision, 1 when empty)
   *   kv(key, value, create_rev, mod_rev, version, lease)   one row per live key; keys compare as
   *                       UTF-8 bytes (BINARY collation), the order etcd uses
   *   lease(id, ttl_ms, expires_ms)   expiry in wall-clock millis, so all processes agree on it
   * A file with another application_id or schema version is refused, never "upgraded" silently.
   *
   * Durability: WAL journal with synchronous=FULL, so a commit returns only after its WAL frames
   * are fsync'ed: acknowledged changes survive kill -9 and power loss. A commit that fails is
   * rolled back by SQLite and reported, never retried blindly.
   *
   * Concurrency: one JDBC connection per store, used under `lock`; operations run on the calling
   * thread and block it for the fsync (a few ms), and while another process writes. Processes are
   * serialised by SQLite's file locks: a write transaction starts with BEGIN IMMEDIATE, so it holds
   * the write lock before it reads what it compares (no lost update, no deadlocking upgrade from a
   * read lock). SQLite waits up to busyTimeout for a busy lock; BUSY_SNAPSHOT and BUSY_RECOVERY
   * bypass that wait, so the whole transaction is retried a few times before UNAVAILABLE. Retrying
   * is safe: a transaction that failed with BUSY applied nothing. Reads run in a snapshot
   * transaction and never wait for writers.
   *
   * Revisions and leases, as etcd: every write transaction that changes something bumps the
   * revision once. Expired leases are reaped (keys deleted, revision bumped) at the start of every
   * write transaction; a read that finds an expired lease becomes a write transaction, so no read
   * ever returns a key of an expired lease.
   *
   * Watches: SQLite cannot notify other processes, so watches poll the revision on the injected
   * scheduler (PollingWatch); local commits poke them for low latency.
   */
  static final int SCHEMA_VERSION = 1;
  static final int APPLICATION_ID = 0x546f7275; // "Toru"
  static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(10);
  private static final int BUSY_ATTEMPTS = 5;

  private final Path file;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Duration busyTimeout;
  private final Duration pollInterval;
  private final ReentrantLock lock = new ReentrantLock();
  private final Connection conn;
  private final Set<PollingWatch> watches = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private SqliteKvStore(Path file, Clock clock, ScheduledExecutorService scheduler,
      Duration busyTimeout, Duration pollInterval, Connection conn) {
    this.file = file;
    this.clock = clock;
    this.scheduler = scheduler;
    this.busyTimeout = busyTimeout;
    this.pollInterval = pollInterval;
    this.conn = conn;
  }

  /**
   * Opens (creating if needed) the database at {@code file}. Fails with a message naming the file,
   * the reason and what to do: {@code UNAVAILABLE} if it cannot be opened, {@code CORRUPTED} if it
   * is not a Torus metadata database, {@code NOT_SUPPORTED} if a newer Torus wrote it.
   */
  static SqliteKvStore open(Path file, Clock clock, ScheduledExecutorService scheduler,
      Duration busyTimeout, Duration pollInterval) {
    Path abs = file.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      throw cannotOpen(abs, "it is a directory", null);
    }
    Path dir = abs.getParent();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      String why = e instanceof FileAlreadyExistsException ? "a file that is not a directory is"
          + " in the way" : e instanceof AccessDeniedException ? "permission denied"
          : String.valueOf(e.getMessage());
      throw cannotOpen(abs, "cannot create directory " + dir + " (" + why + ")", e);
    }
    Connection conn = null;
    try {
      conn = DriverManager.getConnection("jdbc:sqlite:" + abs);
      try (Statement s = conn.createStatement()) {
        s.execute("PRAGMA busy_timeout = " + busyTimeout.toMillis());
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          String mode = rs.next() ? rs.getString(1) : "?";
          if (!"wal".equalsIgnoreCase(mode)) {
            throw cannotOpen(abs, "SQLite refused write-ahead logging (journal mode " + mode + ")",
                null);
          }
        }
        s.execute("PRAGMA synchronous = FULL");
      }
      SqliteKvStore store = new SqliteKvStore(abs, clock, scheduler, busyTimeout, pollInterval,
          conn);
      store.retryBusy(store::checkSchema);
      return store;
    } catch (SQLException e) {
      closeQuietly(conn);
      throw openFailure(abs, e);
    } catch (RuntimeException e) {
      closeQuietly(conn);
      throw e;
    }
  }

  @Override
  public String location() {
    return "embedded " + file;
  }

  /** The database file. */
  Path file() {
    return file;
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key) {
    return call(() -> Optional.ofNullable(transaction(false, tx -> tx.select(key))));
  }

  @Override
  public CompletableFuture<Range> range(String prefix) {
    return call(() -> rangeNow(prefix));
  }

  Range rangeNow(String prefix) throws SQLException {
    checkPrefix(prefix);
    return transaction(false, tx -> new Range(tx.revision, tx.scan(prefix)));
  }

  /** The current revision (reaping expired leases first); cheap, for watches. */
  long revisionNow() throws SQLException {
    return transaction(false, tx -> tx.revision);
  }

  @Override
  public CompletableFuture<TxnResult> txn(Txn txn) {
    boolean writes = hasWrites(txn.onSuccess()) || hasWrites(txn.onFailure());
    return call(() -> transaction(writes, tx -> tx.run(txn)));
  }

  @Override
  public CompletableFuture<Long> grantLease(Duration ttl) {
    if (ttl.toMillis() <= 0) {
      return CompletableFuture.failedFuture(TorusExceptions.invalid("lease TTL must be > 0: " + ttl));
    }
    return call(() -> transaction(true, tx -> tx.grant(ttl.toMillis())));
  }

  @Override
  public CompletableFuture<Duration> keepAlive(long leaseId) {
    return call(() -> Duration.ofMillis(transaction(true, tx -> tx.renew(leaseId))));
  }

  @Override
  public CompletableFuture<Void> revokeLease(long leaseId) {
    return call(() -> transaction(true, tx -> {
      tx.revoke(leaseId);
      return null;
    }));
  }

  @Override
  public Subscription watch(String prefix, Consumer<Range> onChange) {
    checkPrefix(prefix);
    if (closed) {
      throw TorusExceptions.closed(location());
    }
    PollingWatch w = new PollingWatch(this, prefix, onChange, watches::remove);
    watches.add(w);
    w.start(scheduler, pollInterval);
    return w;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (PollingWatch w : watches) {
      w.close();
    }
    lock.lock();
    try {
      closeQuietly(conn);
    } finally {
      lock.unlock();
    }
  }

  private static void checkPrefix(String prefix) {
    if (!prefix.endsWith("/")) {
      throw TorusExceptions.invalid("prefix must end with '/': " + prefix);
    }
  }

  private static boolean hasWrites(List<KvOp> ops) {
    return ops.stream().anyMatch(op -> op instanceof KvOp.Put || op instanceof KvOp.Delete
        || op instanceof KvOp.DeletePrefix);
  }

  /** The first key after every key that starts with {@code prefix} (which ends with '/'). */
  static String prefixEnd(String prefix) {
    return prefix.substring(0, prefix.length() - 1) + (char) ('/' + 1);
  }

  /** Creates the schema in a new file, or checks that an existing file is ours and readable. */
  private @Nullable Void checkSchema() throws SQLException {
    lock.lock();
    try (Statement begin = conn.createStatement()) {
      begin.execute("BEGIN IMMEDIATE");
      boolean committed = false;
      try {
        checkOrCreateSchema();
        begin.execute("COMMIT");
        committed = true;
      } finally {
        if (!committed) {
          rollback();
        }
      }
      return null;
    } finally {
      lock.unlock();
    }
  }

  private void checkOrCreateSchema() throws SQLException {
    int appId = (int) queryLong("PRAGMA application_id");
    boolean empty = queryLong("SELECT count(*) FROM sqlite_master") == 0;
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
    long version = queryLong("SELECT value FROM meta WHERE name = 'schema_version'");
    if (version != SCHEMA_VERSION) {
      throw new TorusException(ErrorCode.NOT_SUPPORTED, "cannot open the metadata database "
          + file + ": it has format version " + version + " and this Torus reads only version "
          + SCHEMA_VERSION + "; use the Torus release that wrote it (or a newer one)");
    }
  }

  private long queryLong(String sql) throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) {
        throw new TorusException(ErrorCode.CORRUPTED, "the metadata database " + file
            + " lacks what '" + sql + "' reads; restore it from a backup");
      }
      return rs.getLong(1);
    }
  }

  // ---- transactions

  /** Work done inside one SQLite transaction. */
  private interface Work<T> {
    @Nullable T run(Tx tx) throws SQLException;
  }

  /** A call that may throw SQLException, mapped onto a failed future. */
  private interface SqlCall<T> {
    T run() throws SQLException;
  }

  private <T> CompletableFuture<T> call(SqlCall<T> op) {
    try {
      return CompletableFuture.completedFuture(op.run());
    } catch (SQLException e) {
      return CompletableFuture.failedFuture(failure(e));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Runs {@code work} in a transaction, retrying it while another process holds the lock. */
  private <T> T transaction(boolean write, Work<T> work) throws SQLException {
    return retryBusy(() -> attempt(write, work));
  }

  /** Runs a whole transaction again while it fails with BUSY; a busy transaction applied nothing. */
  private <T> T retryBusy(SqlCall<T> transaction) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        return transaction.run();
      } catch (SQLException e) {
        if (!isBusy(e) || attempt >= BUSY_ATTEMPTS) {
          throw e;
        }
      }
      try {
        Thread.sleep(ThreadLocalRandom.current().nextLong(10, 50L * attempt));
      } catch (InterruptedException e) {
        throw TorusExceptions.interrupted(e);
      }
    }
  }

  private <T> T attempt(boolean write, Work<T> work) throws SQLException {
    boolean changed;
    T result;
    lock.lock();
    try {
      if (closed) {
        throw TorusExceptions.closed(location());
      }
      long now = clock.millis();
      try (Statement s = conn.createStatement()) {
        s.execute(write ? "BEGIN IMMEDIATE" : "BEGIN");
      }
      boolean committed = false;
      try {
        Tx tx = new Tx(now, write);
        if (!write && tx.hasExpiredLease()) {
          rollback();
          committed = true; // nothing to undo any more
          return attempt(true, work); // reaping needs the write lock
        }
        result = work.run(tx);
        changed = tx.finish();
        try (Statement s = conn.createStatement()) {
          s.execute("COMMIT");
        }
        committed = true;
      } finally {
        if (!committed) {
          rollback();
        }
      }
    } finally {
      lock.unlock();
    }
    if (changed) {
      for (PollingWatch w : watches) {
        w.poke(scheduler);
      }
    }
    return result;
  }

  private void rollback() {
    try (Statement s = conn.createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException e) {
      // SQLite already rolled back (e.g. after an I/O error): nothing is left to undo.
    }
  }

  /** One transaction's view: the revision it started at and whether it wrote. */
  private final class Tx {
    final long now;
    final boolean write;
    final long revision;
    private boolean changed;

    Tx(long now, boolean write) throws SQLException {
      this.now = now;
      this.write = write;
      long rev = readRevision();
      if (write && reapExpiredLeases()) {
        rev++; // the lessor's revocation is a transaction of its own, as in etcd
        storeRevision(rev);
      }
      this.revision = rev;
    }

    /** Stores the revision if this transaction changed anything; returns whether it did. */
    boolean finish() throws SQLException {
      if (changed) {
        storeRevision(revision + 1);
      }
      return changed;
    }

    long endRevision() {
      return changed ? revision + 1 : revision;
    }

    boolean hasExpiredLease() throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT 1 FROM lease WHERE expires_ms <= ? LIMIT 1")) {
        ps.setLong(1, now);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    }

    private boolean reapExpiredLeases() throws SQLException {
      if (!hasExpiredLease()) {
        return false;
      }
      int deleted;
      try (PreparedStatement ps = conn.prepareStatement(
          "DELETE FROM kv WHERE lease IN (SELECT id FROM lease WHERE expires_ms <= ?)")) {
        ps.setLong(1, now);
        deleted = ps.executeUpdate();
      }
      try (PreparedStatement ps = conn.prepareStatement("DELETE FROM lease WHERE expires_ms <= ?")) {
        ps.setLong(1, now);
        ps.executeUpdate();
      }
      return deleted > 0;
    }

    private long readRevision() throws SQLException {
      return queryLong("SELECT value FROM meta WHERE name = 'revision'");
    }

    private void storeRevision(long rev) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE meta SET value = ? WHERE name = 'revision'")) {
        ps.setLong(1, rev);
        ps.executeUpdate();
      }
    }

    @Nullable KeyValue select(String key) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE key = ?")) {
        ps.setString(1, key);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? keyValue(rs) : null;
        }
      }
    }

    List<KeyValue> scan(String prefix) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT key, value, create_rev, mod_rev, version, lease FROM kv"
              + " WHERE key >= ? AND key < ? ORDER BY key")) {
        ps.setString(1, prefix);
        ps.setString(2, prefixEnd(prefix));
        List<KeyValue> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(keyValue(rs));
          }
        }
        return out;
      }
    }

    private KeyValue keyValue(ResultSet rs) throws SQLException {
      return new KeyValue(rs.getString(1), rs.getBytes(2), rs.getLong(3), rs.getLong(4),
          rs.getLong(5), rs.getLong(6));
    }

    TxnResult run(Txn txn) throws SQLException {
      boolean ok = true;
      for (Compare c : txn.compares()) {
        ok &= c.test(select(c.key()));
      }
      List<KvOp> ops = ok ? txn.onSuccess() : txn.onFailure();
      for (KvOp op : ops) { // validate first: a transaction applies entirely or not at all
        if (op instanceof KvOp.Put put && put.lease() != 0 && !leaseExists(put.lease())) {
          throw TorusExceptions.notFound("lease " + Long.toHexString(put.lease()));
        }
      }
      List<List<KeyValue>> reads = new ArrayList<>();
      for (KvOp op : ops) {
        if (op instanceof KvOp.Put put) {
          put(put);
        } else if (op instanceof KvOp.Delete del) {
          delete("DELETE FROM kv WHERE key = ?", del.key());
        } else if (op instanceof KvOp.DeletePrefix del) {
          delete("DELETE FROM kv WHERE key >= ? AND key < ?", del.prefix(),
              prefixEnd(del.prefix()));
        } else if (op instanceof KvOp.Get g) {
          KeyValue kv = select(g.key());
          reads.add(kv == null ? List.of() : List.of(kv));
        } else if (op instanceof KvOp.GetPrefix g) {
          reads.add(scan(g.prefix()));
        }
      }
      return new TxnResult(ok, endRevision(), reads);
    }

    private void put(KvOp.Put put) throws SQLException {
      checkWrite();
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, 1, ?)"
              + " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
              + " mod_rev = excluded.mod_rev, version = version + 1, lease = excluded.lease")) {
        ps.setString(1, put.key());
        ps.setBytes(2, put.value());
        ps.setLong(3, revision + 1);
        ps.setLong(4, revision + 1);
        ps.setLong(5, put.lease());
        ps.executeUpdate();
      }
      changed = true;
    }

    private void delete(String sql, String... args) throws SQLException {
      checkWrite();
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setString(i + 1, args[i]);
        }
        if (ps.executeUpdate() > 0) {
          changed = true; // as in etcd, deleting nothing is no change and bumps nothing
        }
      }
    }

    private void checkWrite() {
      if (!write) {
        throw new IllegalStateException("write in a read transaction");
      }
    }

    private boolean leaseExists(long id) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement("SELECT 1 FROM lease WHERE id = ?")) {
        ps.setLong(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    }

    long grant(long ttlMillis) throws SQLException {
      while (true) { // random ids, like etcd's, are never reused across wiped files
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (PreparedStatement ps = conn.prepareStatement(
            "INSERT OR IGNORE INTO lease (id, ttl_ms, expires_ms) VALUES (?, ?, ?)")) {
          ps.setLong(1, id);
          ps.setLong(2, ttlMillis);
          ps.setLong(3, now + ttlMillis);
          if (ps.executeUpdate() == 1) {
            return id;
          }
        }
      }
    }

    long renew(long id) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE lease SET expires_ms = ? + ttl_ms WHERE id = ? RETURNING ttl_ms")) {
        ps.setLong(1, now);
        ps.setLong(2, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw TorusExceptions.notFound("lease " + Long.toHexString(id));
          }
          return rs.getLong(1);
        }
      }
    }

    void revoke(long id) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement("DELETE FROM kv WHERE lease = ?")) {
        ps.setLong(1, id);
        changed = ps.executeUpdate() > 0;
      }
      try (PreparedStatement ps = conn.prepareStatement("DELETE FROM lease WHERE id = ?")) {
        ps.setLong(1, id);
        ps.executeUpdate();
      }
    }
  }

  // ---- errors

  private static boolean isBusy(SQLException e) {
    int primary = e.getErrorCode() & 0xff;
    return primary == SQLiteErrorCode.SQLITE_BUSY.code
        || primary == SQLiteErrorCode.SQLITE_LOCKED.code;
  }

  private TorusException failure(SQLException e) {
    if (isBusy(e)) {
      return TorusExceptions.unavailable("the metadata database " + file + " stayed locked by"
          + " another process for over " + busyTimeout.toSeconds() + " s (" + BUSY_ATTEMPTS
          + " attempts); find the process that holds it (fuser " + file + ") and stop it", e);
    }
    return translate(file, e);
  }

  private static TorusException openFailure(Path file, SQLException e) {
    TorusException t = translate(file, e);
    if (t.code() == ErrorCode.UNAVAILABLE) {
      return cannotOpen(file, reason(e), e);
    }
    return t;
  }

  private static TorusException translate(Path file, SQLException e) {
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

  private static void closeQuietly(@Nullable Connection conn) {
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
