package dev.torus.metadata.embedded;

import static dev.torus.TorusAssertions.assertCode;
import static dev.torus.TorusAssertions.eventually;
import static dev.torus.internal.concurrent.Futures.join;
import static dev.torus.metadata.kv.KvStoreContract.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.metadata.Subscription;
import dev.torus.metadata.kv.KeyValue;
import dev.torus.metadata.kv.KvOp;
import dev.torus.metadata.kv.KvStore;
import dev.torus.metadata.kv.KvStoreContract;
import dev.torus.metadata.kv.MutableClock;
import dev.torus.metadata.kv.Range;
import dev.torus.metadata.kv.Txn;
import dev.torus.metadata.kv.TxnResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class SqliteKvStoreTest implements KvStoreContract {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
  @TempDir Path dir;

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  private Path db() {
    return dir.resolve("metadata.db");
  }

  @Override
  public KvStore newStore() {
    return EmbeddedMetadata.openStore(db(), clock, scheduler);
  }

  @Override
  public void elapse(Duration d) {
    clock.advance(d);
  }

  private static String query(Path file, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void everythingSurvivesAReopen() throws Exception {
    long lease;
    TxnResult written;
    try (KvStore s = newStore()) {
      lease = join(s.grantLease(Duration.ofSeconds(60)));
      written = join(s.txn(Txn.of(List.of(put("/a/x", "1"),
          new KvOp.Put("/a/leased", new byte[] {7}, lease)))));
    }
    assertThat(query(db(), "PRAGMA journal_mode")).isEqualTo("wal");
    assertThat(query(db(), "PRAGMA integrity_check")).isEqualTo("ok");
    try (KvStore s = newStore()) {
      Range r = join(s.range("/a/"));
      assertThat(r.revision()).isEqualTo(written.revision());
      assertThat(r.kvs()).extracting(KeyValue::key).containsExactly("/a/leased", "/a/x");
      assertThat(join(s.keepAlive(lease))).isEqualTo(Duration.ofSeconds(60));
      clock.advance(Duration.ofSeconds(61));
      assertThat(join(s.get("/a/leased"))).isEmpty();
    }
  }

  @Test
  void twoStoresOnOneFileSeeEachOther() throws Exception {
    try (KvStore a = newStore(); KvStore b = newStore()) {
      List<Range> seen = new CopyOnWriteArrayList<>();
      try (Subscription sub = a.watch("/w/", seen::add)) {
        long lease = join(b.grantLease(Duration.ofSeconds(5)));
        TxnResult r = join(b.txn(Txn.of(List.of(new KvOp.Put("/w/k", new byte[] {1}, lease)))));
        eventually(() -> !seen.isEmpty() && seen.get(seen.size() - 1).revision() == r.revision(),
            Duration.ofSeconds(5));
        assertThat(join(a.keepAlive(lease))).isEqualTo(Duration.ofSeconds(5));
        clock.advance(Duration.ofSeconds(6));
        eventually(() -> seen.get(seen.size() - 1).kvs().isEmpty(), Duration.ofSeconds(5));
        assertCode(ErrorCode.NOT_FOUND, () -> join(b.keepAlive(lease)));
      }
    }
  }

  @Test
  void aWriterWaitsForAnotherProcessThenGivesUpClearly() throws Exception {
    try (KvStore s = SqliteKvStore.open(db(), clock, scheduler, Duration.ofMillis(200),
            Duration.ofMillis(100));
        Connection other = DriverManager.getConnection("jdbc:sqlite:" + db());
        Statement st = other.createStatement()) {
      join(s.txn(Txn.of(List.of(put("/b/a", "1")))));
      st.execute("BEGIN IMMEDIATE"); // another process in the middle of a write
      assertThatThrownBy(() -> join(s.txn(Txn.of(List.of(put("/b/a", "2"))))))
          .isInstanceOf(TorusException.class)
          .hasMessageContaining(db().toString()).hasMessageContaining("locked by another process")
          .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.UNAVAILABLE));
      assertThat(join(s.get("/b/a"))).as("readers never wait for writers").isPresent();
      st.execute("ROLLBACK");
      join(s.txn(Txn.of(List.of(put("/b/a", "3")))));
    }
  }

  @Test
  void aFileThatCannotBeOpenedSaysWhereAndWhy() throws Exception {
    Path plainFile = Files.writeString(dir.resolve("plain"), "x");
    assertThatThrownBy(() -> newStoreAt(plainFile.resolve("metadata.db")))
        .isInstanceOf(TorusException.class)
        .hasMessageContaining(plainFile.toString()).hasMessageContaining("TORUS_METADATA")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.UNAVAILABLE));
    assertThatThrownBy(() -> newStoreAt(dir)).isInstanceOf(TorusException.class)
        .hasMessageContaining("directory");
  }

  @Test
  void aFileThatIsNotTorusMetadataIsRefused() throws Exception {
    Path garbage = Files.write(dir.resolve("garbage.db"), new byte[8192]);
    Files.write(garbage, "this is not a database at all, just text ".repeat(200).getBytes());
    assertThatThrownBy(() -> newStoreAt(garbage)).isInstanceOf(TorusException.class)
        .hasMessageContaining(garbage.toString())
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.CORRUPTED));

    Path foreign = dir.resolve("foreign.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + foreign);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE songs (title TEXT)");
    }
    assertThatThrownBy(() -> newStoreAt(foreign)).isInstanceOf(TorusException.class)
        .hasMessageContaining("another program")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.CORRUPTED));
    assertThat(query(foreign, "SELECT count(*) FROM sqlite_master")).as("left untouched")
        .isEqualTo("1");
  }

  @Test
  void aNewerFormatIsDetected() throws Exception {
    newStore().close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db());
        Statement s = c.createStatement()) {
      s.execute("UPDATE meta SET value = 2 WHERE name = 'schema_version'");
    }
    assertThatThrownBy(this::newStore).isInstanceOf(TorusException.class)
        .hasMessageContaining("format version 2").hasMessageContaining(db().toString())
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.NOT_SUPPORTED));
  }

  private KvStore newStoreAt(Path file) {
    return EmbeddedMetadata.openStore(file, clock, scheduler);
  }
}
