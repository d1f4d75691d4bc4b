package dev.torus.metadata;

import java.time.Instant;
import java.util.Objects;

/**
 * Who holds a volume's write lock.
 *
 * @param owner free text naming the holder, e.g. {@code torusblk@host:pid}
 * @param session the write session (inode number) the holder writes blocks under
 */
public record LockInfo(String owner, long session, Instant acquired) {
  public LockInfo {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(acquired, "acquired");
  }
}
