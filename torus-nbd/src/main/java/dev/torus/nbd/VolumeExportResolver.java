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
 * Serves every volume of a {@link VolumeService}, export name = volume name.
 *
 * <p>Sharing: all connections to one volume share one open {@link BlockVolume}, so a flush on any
 * connection covers writes from all of them (the export is multi-connection safe) and a second
 * connection does not trip over the first one's write lock. The volume is opened by the first
 * connection and closed (committed and unlocked) when the last one ends. A read-only server opens
 * volumes read-only, without a lock, at their last committed state.
 */
final class VolumeExportResolver implements ExportResolver {
  private static final Logger log = LoggerFactory.getLogger(VolumeExportResolver.class);

  private final VolumeService volumes;
  private final boolean readOnly;
  private final Map<String, Shared> open = new HashMap<>(); // guarded by this
  private final Map<String, CompletableFuture<Void>> closing = new HashMap<>(); // guarded by this

  VolumeExportResolver(VolumeService volumes, boolean readOnly) {
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
        CompletableFuture<BlockVolume> opening = previous.thenCompose(x -> readOnly || readOnlyRequest
            ? volumes.openReadOnly(name)
            : volumes.openWritable(name));
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
}
