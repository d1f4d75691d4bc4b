package dev.torus.metadata.embedded;

import dev.torus.metadata.MetadataService;
import dev.torus.metadata.kv.KvMetadata;
import dev.torus.metadata.kv.KvStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The embedded metadata store: cluster metadata in one SQLite file on the local disk, for a
 * single-host cluster and the quick start. It has the same key schema, transactions and semantics
 * as etcd (see {@code docs/etcd-keys.md}), and it is not a toy: every acknowledged change is
 * fsync'ed (write-ahead log, {@code synchronous=FULL}) and survives {@code kill -9} and power
 * loss.
 *
 * <p><b>Sharing:</b> {@code torusd}, {@code torusctl} and {@code torusblk} on one host may open the
 * same file at the same time; SQLite's file locks serialise their transactions, and watches see
 * the other processes' changes within {@value #WATCH_POLL_MILLIS} ms. The file must be on a local
 * file system (SQLite's locks and write-ahead log do not work over NFS). Lease expiry uses the
 * wall clock, which every process on the host shares.
 *
 * <p><b>Location:</b> {@link #defaultLocation} is where the command-line tools look: the value of
 * {@code $}{@value #LOCATION_VARIABLE} if set, otherwise {@code ~/.torus/metadata.db} of the user
 * running the tool. A service that runs as its own user (say {@code torusd} under systemd) and the
 * tools an administrator runs must agree on the file, so set {@value #LOCATION_VARIABLE} (e.g. to
 * {@code /var/lib/torus/metadata.db}) for all of them.
 *
 * <p>Thread-safety: the services and stores returned are thread-safe. Operations run on the
 * calling thread and block it for the disk sync, and while another process is writing. Failures:
 * {@code UNAVAILABLE} when the file cannot be opened or stays locked, {@code CORRUPTED} when it is
 * not a Torus metadata file, {@code NOT_SUPPORTED} when a newer Torus wrote it; the message names
 * the file and says what to do.
 */
public final class EmbeddedMetadata {
  /** The environment variable the command-line tools read the file location from. */
  public static final String LOCATION_VARIABLE = "TORUS_METADATA";

  /** How often watches look for changes made by other processes. */
  public static final long WATCH_POLL_MILLIS = 100;

  private EmbeddedMetadata() {}

  /**
   * Where the metadata file lives: {@code override} (the value of {@code $}{@value
   * #LOCATION_VARIABLE} or a command-line flag) when present and not blank, otherwise {@code
   * .torus/metadata.db} under {@code userHome}.
   */
  public static Path defaultLocation(Optional<String> override, Path userHome) {
    return override.filter(s -> !s.isBlank()).map(Path::of)
        .orElseGet(() -> userHome.resolve(".torus").resolve("metadata.db"));
  }

  /**
   * Opens the metadata in {@code file}, creating the file and its directory if needed. The
   * service owns the file handle and releases it on close. {@code clock} is the wall clock that
   * times leases and timestamps records; watches poll on {@code scheduler}, which the caller owns
   * and shuts down after closing the service.
   */
  public static MetadataService open(Path file, Clock clock, ScheduledExecutorService scheduler) {
    return KvMetadata.over(openStore(file, clock, scheduler), KvMetadata.DEFAULT_ROOT, clock);
  }

  /**
   * The raw key-value store in {@code file}, for tests and tools that work below the metadata
   * schema; see {@link #open} for the arguments. The caller closes it.
   */
  public static KvStore openStore(Path file, Clock clock, ScheduledExecutorService scheduler) {
    return SqliteKvStore.open(file, clock, scheduler, SqliteKvStore.DEFAULT_BUSY_TIMEOUT,
        Duration.ofMillis(WATCH_POLL_MILLIS));
  }
}
