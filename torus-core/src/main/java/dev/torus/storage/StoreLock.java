package dev.torus.storage;

import dev.torus.TorusExceptions;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive hold of one process on one store directory: an OS lock on {@value
 * StoreFiles#LOCK}, plus a JVM-wide set of held directories.
 *
 * <p>The set is needed because the OS lock is a POSIX record lock, which belongs to the process:
 * another open in the same JVM would not be refused by the OS, and closing its file descriptor
 * would silently drop the lock the first store holds. So a second open in this JVM is refused
 * before it touches the lock file.
 */
final class StoreLock implements Closeable {
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private StoreLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code dir}, which must exist; fails with {@code LOCKED} if the store is open. */
  static StoreLock acquire(Path dir) throws IOException {
    Path real = dir.toRealPath();
    if (!HELD.add(real)) {
      throw TorusExceptions.locked("the block store in " + real + " is already open in this"
          + " process; close it before opening it again");
    }
    FileChannel ch = null;
    try {
      ch = FileChannel.open(real.resolve(StoreFiles.LOCK), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE);
      FileLock lock = ch.tryLock();
      if (lock == null) {
        throw TorusExceptions.locked("the block store in " + real + " is open in another process;"
            + " stop that process or use another directory");
      }
      return new StoreLock(real, ch, lock);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      HELD.remove(real);
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
      channel.close();
    } finally {
      HELD.remove(dir);
    }
  }
}
