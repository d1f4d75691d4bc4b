package dev.torus.nbd;

import dev.torus.TorusExceptions;
import dev.torus.metadata.VolumeInfo;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.BlockVolume;
import dev.torus.volume.VolumeService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves every volume of a {@link VolumeService}, export name = volume name, and every snapshot
 * read-only as {@code volume@snapshot}: a snapshot keeps its blocks from garbage collection, so it
 * is the way to serve a consistent read-only view of a volume that is being written elsewhere. Made by {@link
 * ExportResolver#ofVolumes}; close it after the {@link NbdServer} that uses it, so that every
 * volume is committed and unlocked before the process goes.
 *
 * <p>Sharing: all connections to one volume share one open {@link BlockVolume}, so a flush on any
 * connection covers writes from all of them (the export is multi-connection safe) and a second
 * connection does not trip over the first one's write lock. The volume is opened by the first
 * connection and closed (committed and unlocked) when the last one ends. A read-only server opens
 * volumes read-only, without a lock, at their last committed state.
 */
public final class VolumeExports implements ExportResolver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VolumeExports.class);

  private final VolumeService volumes;
  private final boolean readOnly;
  private final Map<String, Shared> open = new HashMap<>(); // guarded by this
  private final Map<String, CompletableFuture<Void>> closing = new HashMap<>(); // guarded by this

  VolumeExports(VolumeService volumes, boolean readOnly) {
    this.volumes = volumes;
    this.readOnly = readOnly;
  }

  @Override
  public CompletableFuture<List<ExportInfo>> list() {
    return volumes.catalog().list().thenCombine(blockSize(), (all, bs) ->
        all.stream().map(v -> info(v, bs)).toList());
  }

  @Override
  public CompletableFuture<ExportInfo> describe(String name) {
    ExportName export = ExportName.parse(name);
    String snapshot = export.snapshot();
    if (snapshot != null) {
      return volumes.catalog().get(export.volume())
          .thenCompose(v -> volumes.metadata().volumes().getSnapshot(v.id(), snapshot))
          .thenCombine(blockSize(), (snap, bs) -> new ExportInfo(name, "", snap.root().size(), bs, true, true));
    }
    return volumes.catalog().get(name).thenCombine(blockSize(), this::info);
  }

  private CompletableFuture<Integer> blockSize() {
    return volumes.metadata().global().thenApply(g -> g.blockSize());
  }

  private ExportInfo info(VolumeInfo v, int blockSize) {
    // An empty description lets the server's configured one apply.
    return new ExportInfo(v.name(), "", v.size(), blockSize, readOnly, true);
  }

  @Override
  public CompletableFuture<BlockDevice> open(String name, boolean readOnlyRequest) {
    Shared shared;
    synchronized (this) {
      shared = open.get(name);
      if (shared == null) {
        // A volume whose last connection just ended may still be committing and unlocking.
        CompletableFuture<Void> previous = closing.getOrDefault(name, CompletableFuture.completedFuture(null));
        CompletableFuture<BlockVolume> opening = previous.thenCompose(x -> openVolume(name, readOnlyRequest));
        shared = new Shared(name, opening);
        open.put(name, shared);
        Shared s = shared;
        opening.whenComplete((v, e) -> {
          if (e != null) {
            forget(s);
          }
        });
      }
      shared.users++;
    }
    Shared s = shared;
    return shared.volume.handle((v, e) -> {
      if (e != null) {
        release(s);
        throw TorusExceptions.unwrap(e);
      }
      return (BlockDevice) new DeviceView(v, () -> release(s));
    });
  }

  /** {@code volume@snapshot} opens a snapshot (always read-only); a plain name, the volume. */
  private CompletableFuture<BlockVolume> openVolume(String name, boolean readOnlyRequest) {
    ExportName export = ExportName.parse(name);
    String snapshot = export.snapshot();
    if (snapshot != null) {
      return volumes.openSnapshot(export.volume(), snapshot);
    }
    return readOnly || readOnlyRequest ? volumes.openReadOnly(name) : volumes.openWritable(name);
  }

  private synchronized void forget(Shared s) {
    open.remove(s.name, s);
  }

  /** Drops one connection's use; the last one commits and closes the volume. */
  private void release(Shared s) {
    CompletableFuture<Void> closed = new CompletableFuture<>();
    synchronized (this) {
      if (--s.users > 0) {
        return;
      }
      open.remove(s.name, s);
      closing.put(s.name, closed);
    }
    s.volume.whenComplete((v, e) -> { // outside the lock: closing commits, which takes a while
      if (v != null) {
        try {
          v.close();
        } catch (RuntimeException failure) {
          log.error("closing volume '{}' after its last NBD connection failed: {}", s.name,
              failure.getMessage());
        }
      }
      synchronized (this) {
        closing.remove(s.name, closed);
      }
      closed.complete(null);
    });
  }

  /** One volume open for its connections. */
  private static final class Shared {
    final String name;
    final CompletableFuture<BlockVolume> volume;
    int users;

    Shared(String name, CompletableFuture<BlockVolume> volume) {
      this.name = name;
      this.volume = volume;
    }
  }

  /**
   * Waits until every volume whose connections ended is committed and closed. Call after the
   * server is closed (which ends every connection); idempotent.
   */
  @Override
  public void close() {
    List<CompletableFuture<Void>> pending;
    synchronized (this) {
      if (!open.isEmpty()) {
        log.warn("closing NBD exports while {} volume(s) still have connections", open.size());
      }
      pending = List.copyOf(closing.values());
    }
    pending.forEach(CompletableFuture::join);
  }
}
