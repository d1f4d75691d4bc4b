package dev.torus.metadata.embedded;

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
import java.nio.file.Path;
import java.sql.Connection;
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

/**
 * A {@link KvStore} in one SQLite file, with etcd's semantics, shared by every process on the host
 * that opens the same file.
 */
final class SqliteKvStore implements KvStore {
  /*
   * On-disk format: see SqliteFile.
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
   * Opens (creating if needed) the database at {@code file}; see {@link SqliteFile#open} for the
   * failures. {@code busyTimeout} bounds each wait for another process's lock.
   */
  static SqliteKvStore open(Path file, Clock clock, ScheduledExecutorService scheduler,
      Duration busyTimeout, Duration pollInterval) {
    Path abs = file.toAbsolutePath();
    return new SqliteKvStore(abs, clock, scheduler, busyTimeout, pollInterval,
        SqliteFile.open(abs, busyTimeout));
  }

  @Override
  public String location() {
    return "embedded " + file;
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
    boolean writes = txn.mayWrite();
    return call(() -> transaction(writes, tx -> tx.run(txn)));
  }

  @Override
  public CompletableFuture<Long> grantLease(Duration ttl) {
    if (ttl.toMillis() <= 0) {
      return CompletableFuture.failedFuture(
          TorusExceptions.invalid("lease TTL must be > 0: " + ttl));
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
      SqliteFile.closeQuietly(conn);
    } finally {
      lock.unlock();
    }
  }

  private static void checkPrefix(String prefix) {
    if (!prefix.endsWith("/")) {
      throw TorusExceptions.invalid("prefix must end with '/': " + prefix);
    }
  }

  /** The first key after every key that starts with {@code prefix} (which ends with '/'). */
  private static String prefixEnd(String prefix) {
    return prefix.substring(0, prefix.length() - 1) + (char) ('/' + 1);
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
    for (int attempt = 1; ; attempt++) {
      try {
        return attempt(write, work);
      } catch (SQLException e) { // a transaction that failed with BUSY applied nothing
        if (!SqliteFile.isBusy(e) || attempt >= BUSY_ATTEMPTS) {
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
    private final boolean reaped;
    private boolean changed;

    Tx(long now, boolean write) throws SQLException {
      this.now = now;
      this.write = write;
      long rev = readRevision();
      reaped = write && reapExpiredLeases();
      if (reaped) {
        rev++; // the lessor's revocation is a transaction of its own, as in etcd
        storeRevision(rev);
      }
      this.revision = rev;
    }

    /** Stores the revision if the work changed anything; returns whether anything changed. */
    boolean finish() throws SQLException {
      if (changed) {
        storeRevision(revision + 1);
      }
      return changed || reaped;
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
      try (PreparedStatement ps = conn.prepareStatement(
          "DELETE FROM lease WHERE expires_ms <= ?")) {
        ps.setLong(1, now);
        ps.executeUpdate();
      }
      return deleted > 0;
    }

    private long readRevision() throws SQLException {
      return SqliteFile.queryLong(conn, file, "SELECT value FROM meta WHERE name = 'revision'");
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
          "INSERT INTO kv (key, value, create_rev, mod_rev, version, lease)"
              + " VALUES (?, ?, ?, ?, 1, ?)"
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

  private TorusException failure(SQLException e) {
    if (SqliteFile.isBusy(e)) {
      return TorusExceptions.unavailable("the metadata database " + file + " stayed locked by"
          + " another process for over " + busyTimeout.toSeconds() + " s (" + BUSY_ATTEMPTS
          + " attempts); find the process that holds it (fuser " + file + ") and stop it", e);
    }
    return SqliteFile.translate(file, e);
  }
}
