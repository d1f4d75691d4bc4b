package dev.torus.volume;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.VolumeRoot;
import dev.torus.metadata.Versioned;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Runs a volume's commits one at a time. A commit requested while one runs waits for the next,
 * which every such request shares, so a flush always covers every write that completed before it.
 *
 * <p>Order of a commit, and why: data blocks and new map pages are stored, then the store is
 * synced, and only then is the root moved in metadata. The root therefore never points at
 * anything that is not durable, and a crash at any point leaves the previous root intact.
 *
 * <p>A full store: when some data blocks are refused with {@code OUT_OF_SPACE} and others were
 * stored, the commit moves the root for those it stored and fails afterwards, and the refused
 * blocks stay pending. Writes that no flush acknowledged carry no promise (after a crash any
 * subset of them may be there), so committing part of them breaks none, and it is the only way
 * out when overwrites filled the store: the blocks a landed commit replaced are freed (by the
 * writer, {@link SupersededBlocks}, or by garbage collection), never those of a commit that cannot
 * land.
 */
final class Committer {
  /** Bounds the blocks a commit has on the wire at once, so a big commit cannot flood peers. */
  private static final int MAX_PUTS_IN_FLIGHT = 64;

  private final VolumeHandle volume;
  // Guarded by volume.
  private @Nullable CompletableFuture<Void> running;
  private @Nullable CompletableFuture<Void> queued;

  Committer(VolumeHandle volume) {
    this.volume = volume;
  }

  CompletableFuture<Void> commit() {
    synchronized (volume) {
      if (running != null) {
        if (queued == null) {
          queued = new CompletableFuture<>();
        }
        return queued;
      }
      CompletableFuture<Void> started = start();
      running = started;
      started.whenComplete((v, e) -> finished());
      return started;
    }
  }

  private void finished() {
    CompletableFuture<Void> next;
    CompletableFuture<Void> started;
    synchronized (volume) {
      running = null;
      next = queued;
      queued = null;
      if (next == null) {
        return;
      }
      started = start();
      running = started;
    }
    started.whenComplete((v, e) -> {
      if (e == null) {
        next.complete(null);
      } else {
        next.completeExceptionally(e);
      }
      finished();
    });
  }

  /** Freezes the pending blocks and starts committing them. Called with the volume's monitor. */
  private CompletableFuture<Void> start() {
    VolumeHandle v = volume;
    if (v.isFenced()) {
      return v.flushRefusal();
    }
    if (v.pending.isEmpty() && !v.resized) {
      return Futures.done();
    }
    HashMap<Long, PendingBlock> frozen = v.pending;
    v.pending = new HashMap<>();
    v.frozen = frozen;
    v.dirty.clearQueue();
    // Every data block the new tree gets from this session has its ref before the high-water
    // mark is read: a snapshot of the tree then holds no block of the session above the mark,
    // which is how SupersededBlocks tells the blocks a snapshot may hold.
    ArrayDeque<BlockRef> fresh = new ArrayDeque<>();
    for (PendingBlock f : frozen.values()) {
      if (f.ref == null && !f.hole && (f.data != null || f.loading != null)) {
        fresh.add(v.writer.allocate(BlockType.DATA));
      }
    }
    Snapshot snap = new Snapshot(frozen, v.committed, v.committedRevision, v.size, v.resized,
        v.writer.highWater(), fresh);
    v.resized = false;
    // The rest runs off the caller's thread: a commit must never hold up the I/O that calls it.
    return CompletableFuture.supplyAsync(() -> snap, v.executor)
        .thenCompose(this::storeBlocks)
        .thenCompose(stored -> v.map.apply(snap.base, stored.changes(),
                v.writer.lock().sessionRef(), v.writer::nextIndex)
            .thenCompose(update -> storePages(update)
                .thenCompose(x -> update.pages().isEmpty()
                    ? Futures.done() // nothing new is referenced: a resize, or all holes
                    : v.store.flush())
                .thenCompose(x -> publish(snap, update, stored.refused().keySet())))
            .thenRun(() -> failIfRefused(stored)))
        .whenComplete((x, e) -> {
          if (e != null) {
            rollBack(snap, TorusExceptions.unwrap(e));
          }
        });
  }

  /**
   * What one commit works from, captured at freeze time; {@code fresh} holds the refs allocated
   * then for the frozen blocks that have none yet (guarded by the volume).
   */
  private record Snapshot(HashMap<Long, PendingBlock> frozen, TreeRoot base, long baseRevision,
      long size, boolean resized, long highWater, ArrayDeque<BlockRef> fresh) {}

  /** The map changes of the stored blocks, and the blocks the store refused for lack of space. */
  private record StoredBlocks(TreeMap<Long, @Nullable BlockPointer> changes,
      Map<Long, TorusException> refused) {}

  /**
   * Stores every frozen block that is not in the store yet and returns the map changes. Frozen
   * blocks are never modified again (new writes go to fresh pending blocks), so the store gets a
   * retained view of their buffers, not a copy; one that a failed commit hands back to pending is
   * copied before it changes ({@link PendingBlock#writableData()}).
   */
  private CompletableFuture<StoredBlocks> storeBlocks(Snapshot snap) {
    VolumeHandle v = volume;
    List<CompletableFuture<?>> loads = new ArrayList<>();
    List<CompletableFuture<Void>> puts = new ArrayList<>();
    List<Supplier<CompletableFuture<Void>>> uploads = new ArrayList<>();
    TreeMap<Long, @Nullable BlockPointer> changes = new TreeMap<>();
    Map<Long, TorusException> failed = new ConcurrentHashMap<>();
    synchronized (v) {
      for (PendingBlock f : snap.frozen.values()) {
        if (f.loading != null) {
          loads.add(f.loading);
        }
      }
      if (!loads.isEmpty()) {
        return Futures.allOf(loads).handle((x, e) -> null).thenCompose(x -> storeBlocks(snap));
      }
      for (PendingBlock f : snap.frozen.values()) {
        if (f.unchanged()) {
          continue;
        }
        if (f.hole) {
          changes.put(f.index, null);
        } else if (f.data != null) {
          if (DirtyBlocks.isZero(f.data)) {
            changes.put(f.index, null);
            continue;
          }
          BlockRef ref = f.ref != null ? f.ref : snap.fresh.pop();
          int crc = f.dataCrc();
          f.ref = ref;
          f.crc = crc;
          ByteBuf data = f.shareData();
          CompletableFuture<Void> previous = f.stored;
          CompletableFuture<Void> stored = new CompletableFuture<>();
          f.stored = stored;
          long index = f.index;
          uploads.add(() -> previous.handle((x, e) -> null)
              .thenCompose(x -> v.store.putBlock(ref, data, crc))
              .whenComplete((x, e) -> {
                complete(stored, e);
                if (e != null) {
                  failed.put(index, TorusExceptions.unwrap(e));
                }
              }));
          changes.put(f.index, new BlockPointer(ref, crc));
        } else {
          puts.add(f.stored);
          changes.put(f.index, new BlockPointer(f.ref, f.crc));
        }
      }
    }
    puts.add(Futures.window(uploads, MAX_PUTS_IN_FLIGHT).exceptionally(e -> null));
    return Futures.allOf(puts).thenApply(x -> leaveOutRefused(snap, changes, failed));
  }

  /**
   * Takes the blocks the store refused for lack of space out of {@code changes}, so the commit
   * can land without them; fails the commit for any other failure, or when nothing is left.
   */
  private StoredBlocks leaveOutRefused(Snapshot snap, TreeMap<Long, @Nullable BlockPointer> changes,
      Map<Long, TorusException> failed) {
    Map<Long, TorusException> refused = new TreeMap<>();
    synchronized (volume) {
      for (Map.Entry<Long, TorusException> e : failed.entrySet()) {
        if (e.getValue().code() != ErrorCode.OUT_OF_SPACE) {
          throw e.getValue();
        }
        PendingBlock f = snap.frozen.get(e.getKey());
        // Without data, a write-back stored these very bytes under the same ref and let go of
        // them; the refused put was a second copy, and the block can be committed.
        if (f != null && f.data != null) {
          refused.put(e.getKey(), e.getValue());
        }
      }
    }
    if (!refused.isEmpty() && refused.size() == changes.size() && !snap.resized) {
      throw refused.values().iterator().next();
    }
    refused.keySet().forEach(changes::remove);
    return new StoredBlocks(changes, refused);
  }

  /** Fails a commit that landed without the blocks the store refused, saying how many. */
  private void failIfRefused(StoredBlocks stored) {
    if (stored.refused().isEmpty()) {
      return;
    }
    TorusException first = stored.refused().values().iterator().next();
    throw new TorusException(ErrorCode.OUT_OF_SPACE, "volume '" + volume.info.name()
        + "' committed " + stored.changes().size() + " changed blocks, but the store had no room"
        + " for " + stored.refused().size() + " more, which stay in memory for the next commit: "
        + first.getMessage(), first);
  }

  private static void complete(CompletableFuture<Void> f, @Nullable Throwable e) {
    if (e == null) {
      f.complete(null);
    } else {
      f.completeExceptionally(e);
    }
  }

  private CompletableFuture<Void> storePages(TreeUpdate update) {
    List<Supplier<CompletableFuture<Void>>> puts = new ArrayList<>(update.pages().size());
    for (PageWrite page : update.pages()) {
      puts.add(() -> volume.store.putBlock(page.ref(), BlockMap.buffer(page), page.crc()));
    }
    return Futures.window(puts, MAX_PUTS_IN_FLIGHT);
  }

  /** Moves the root in metadata, fenced by the lease and the lock. */
  private CompletableFuture<Void> publish(Snapshot snap, TreeUpdate update, Set<Long> refused) {
    VolumeHandle v = volume;
    v.writer.keeper().checkValid();
    BlockPointer top = update.root().page();
    VolumeRoot next = new VolumeRoot(snap.size, update.root().levels(), top == null ? null : top.ref(),
        top == null ? 0 : top.crc(), v.writer.lock().session(), snap.highWater);
    return v.metadata.commit(v.writer.lock(), snap.baseRevision, next)
        .exceptionallyCompose(e -> confirmLanded(TorusExceptions.unwrap(e), next))
        .thenAccept(root -> {
          synchronized (v) {
            v.committed = update.root();
            v.committedRevision = root.revision();
            v.frozen = null;
            for (PendingBlock f : snap.frozen.values()) {
              if (refused.contains(f.index)) {
                // The new root's high-water mark covers its ref, so the collector may delete
                // whatever a refused put left under it: the next put takes a new ref.
                f.ref = null;
                f.stored = Futures.done();
                returnToPending(f);
              } else {
                if (f.data != null) {
                  v.dirty.dropped();
                }
                f.releaseData();
              }
            }
            if (refused.isEmpty()) {
              v.dirty.storeWorks();
            }
            v.superseded.add(update.replaced());
          }
          update.pages().forEach(v.map::cache);
        });
  }

  /**
   * A commit whose reply was lost (metadata unreachable, or a retried request) may have landed
   * anyway: if the stored root is exactly ours, it did.
   */
  private CompletableFuture<Versioned<VolumeRoot>> confirmLanded(TorusException e, VolumeRoot next) {
    if (e.code() != ErrorCode.UNAVAILABLE && e.code() != ErrorCode.TIMEOUT
        && e.code() != ErrorCode.COMPARE_FAILED) {
      return CompletableFuture.failedFuture(e);
    }
    return volume.metadata.root(volume.info.id()).handle((root, readError) -> {
      if (readError == null && root.value().equals(next)) {
        return root;
      }
      throw e;
    });
  }

  /**
   * Puts a frozen block back into pending, unless it was rewritten meanwhile. Called with the
   * volume's monitor held.
   */
  private void returnToPending(PendingBlock f) {
    VolumeHandle v = volume;
    if (f.unchanged()) {
      f.releaseKept();
      return;
    }
    if (!v.pending.containsKey(f.index)) {
      v.pending.put(f.index, f);
      if (f.data != null) {
        v.dirty.queue(f);
      }
    } else {
      if (f.data != null) {
        v.dirty.dropped();
      }
      f.releaseData();
    }
  }

  /** Puts a failed commit's blocks back into pending, unless they were rewritten meanwhile. */
  private void rollBack(Snapshot snap, TorusException cause) {
    VolumeHandle v = volume;
    synchronized (v) {
      if (v.frozen != snap.frozen) {
        return; // published: the failure came after the root moved
      }
      v.frozen = null;
      snap.frozen.values().forEach(this::returnToPending);
      if (snap.resized) {
        v.resized = true;
      }
      if (cause.code() == ErrorCode.LOCKED || cause.code() == ErrorCode.COMPARE_FAILED) {
        v.fence(new TorusException(ErrorCode.LOCKED, "volume '" + v.info.name()
            + "' can no longer commit: " + cause.getMessage(), cause));
      }
    }
  }
}
