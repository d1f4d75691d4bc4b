package dev.torus.metadata;

import dev.torus.INodeRef;
import dev.torus.VolumeId;
import java.util.Objects;

/**
 * A held write lock: the fencing token for commits. A commit names the lock and succeeds only
 * while the lock record still exists at {@link #revision()}; once the lease behind it expires, etcd
 * (or the embedded store) deletes the record and every later commit fails with {@code LOCKED}.
 *
 * @param session the inode number allocated with the lock; new blocks are written under it
 * @param leaseId the lease the lock record is attached to
 * @param revision the metadata revision at which the lock record was written
 */
public record VolumeLock(VolumeId volume, String owner, long session, long leaseId, long revision) {
  public VolumeLock {
    Objects.requireNonNull(volume, "volume");
    Objects.requireNonNull(owner, "owner");
  }

  /** The write session as an inode ref. */
  public INodeRef sessionRef() {
    return new INodeRef(volume, session);
  }
}
