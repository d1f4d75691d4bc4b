package dev.torus.volume;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.INodeRef;
import dev.torus.TorusExceptions;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import dev.torus.storage.BlockStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Reads and copy-on-write updates of block maps: radix trees of {@link MapPage}s stored as MAP
 * blocks in a {@link BlockStore}.
 *
 * <p>Cost: a lookup reads one page per level (cached); an update rewrites only the pages on the
 * paths to changed entries, so a commit costs O(changed blocks × height), independent of the
 * volume size. Subtrees that are all holes are not stored at all, so a thin volume's map is as
 * small as its data.
 *
 * <p>Concurrency: thread-safe and stateless apart from the page cache. Stored pages are immutable
 * (every update writes new refs), so cached pages are shared freely; {@link #apply} copies before
 * it changes anything.
 */
final class BlockMap {
  private final MapGeometry geometry;
  private final BlockStore store;
  private final AsyncCache<BlockRef, MapPage> cache;

  BlockMap(MapGeometry geometry, BlockStore store, long cacheBytes) {
    this.geometry = geometry;
    this.store = store;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(Math.max(cacheBytes, geometry.blockSize()))
        .weigher((BlockRef ref, MapPage page) -> geometry.blockSize())
        .buildAsync();
  }

  MapGeometry geometry() {
    return geometry;
  }

  /** The page behind {@code pointer}, checked against its CRC and expected level. */
  CompletableFuture<MapPage> load(BlockPointer pointer, int level) {
    return cache.get(pointer.ref(), (ref, executor) -> store.getBlock(ref, pointer.crc()).thenApply(buf -> {
      try {
        byte[] image = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), image);
        return MapPage.parse(image, ref, level);
      } finally {
        buf.release();
      }
    })).thenApply(page -> {
      if (page.level() != level) {
        throw TorusExceptions.corrupted("map page " + pointer.ref() + " is at level " + page.level()
            + ", expected " + level);
      }
      return page;
    });
  }

  /**
   * The data block at {@code index}, or {@code null} for a hole. Pages already in the cache are
   * walked in place; only the first missing one starts the asynchronous path.
   */
  CompletableFuture<@Nullable BlockPointer> lookup(TreeRoot root, long index) {
    BlockPointer page = root.page();
    if (page == null || index >= geometry.entrySpan(root.levels())) {
      return CompletableFuture.completedFuture(null);
    }
    for (int level = root.levels() - 1; ; level--) {
      MapPage p = cached(page, level);
      if (p == null) {
        return descend(page, level, index);
      }
      BlockPointer entry = p.get(slot(index, level));
      if (entry == null || level == 0) {
        return CompletableFuture.completedFuture(entry);
      }
      page = entry;
    }
  }

  /** A page that is loaded (and was checked when it was), or null: {@link #load} it instead. */
  private @Nullable MapPage cached(BlockPointer pointer, int level) {
    CompletableFuture<MapPage> f = cache.getIfPresent(pointer.ref());
    MapPage p = f == null || f.isCompletedExceptionally() ? null : f.getNow(null);
    return p != null && p.level() == level ? p : null; // a wrong level fails in load()
  }

  private CompletableFuture<@Nullable BlockPointer> descend(BlockPointer page, int level, long index) {
    return load(page, level).thenCompose(p -> {
      BlockPointer entry = p.get(slot(index, level));
      if (entry == null || level == 0) {
        return CompletableFuture.completedFuture(entry);
      }
      return descend(entry, level - 1, index);
    });
  }

  private int slot(long index, int level) {
    return (int) ((index / geometry.entrySpan(level)) % geometry.fanout());
  }

  /**
   * Which blocks in {@code [from, to)} are holes, as maximal runs in order. Whole hole subtrees
   * are answered without reading them.
   */
  CompletableFuture<List<Run>> runs(TreeRoot root, long from, long to) {
    List<Run> out = new ArrayList<>();
    CompletableFuture<Void> done = root.page() == null
        ? Futures.done()
        : collect(root.page(), root.levels() - 1, 0, from, to, out);
    return done.thenApply(v -> Run.fill(out, from, to));
  }

  /** Appends the data runs under a page; holes are whatever the caller's fill leaves uncovered. */
  private CompletableFuture<Void> collect(
      BlockPointer page, int level, long base, long from, long to, List<Run> out) {
    return load(page, level).thenCompose(p -> {
      long span = geometry.entrySpan(level);
      CompletableFuture<Void> chain = Futures.done();
      int first = (int) Math.max(0, (from - base) / span);
      for (int s = first; s < geometry.fanout(); s++) {
        long start = base + s * span;
        if (start >= to) {
          break;
        }
        BlockPointer entry = p.get(s);
        if (entry == null) {
          continue;
        }
        if (level == 0) {
          Run.append(out, start, 1, false);
        } else {
          long childBase = start;
          chain = chain.thenCompose(v -> collect(entry, level - 1, childBase, from, to, out));
        }
      }
      return chain;
    });
  }

  /**
   * Applies {@code changes} (block index to new pointer, {@code null} = hole) to the tree under
   * {@code root}, growing it as tall as the highest changed index needs, allocating page refs from
   * {@code session} with {@code nextIndex}. Nothing is stored: the caller stores {@link
   * TreeUpdate#pages()} before it publishes the root. The data blocks the changes replace are in
   * {@link TreeUpdate#replaced()}.
   */
  CompletableFuture<TreeUpdate> apply(
      TreeRoot root, NavigableMap<Long, @Nullable BlockPointer> changes,
      INodeRef session, LongSupplier nextIndex) {
    int levels = changes.isEmpty()
        ? root.levels()
        : Math.max(root.levels(), geometry.levelsForBlocks(changes.lastKey() + 1));
    Map<BlockRef, PageWrite> written = new HashMap<>();
    List<BlockRef> replaced = new ArrayList<>();
    BlockPointer top = root.page();
    for (int level = root.levels(); level < levels && top != null; level++) {
      MapPage wrapper = MapPage.empty(geometry.blockSize(), level);
      wrapper.set(0, top);
      top = store(wrapper, session, nextIndex, written);
    }
    CompletableFuture<@Nullable BlockPointer> newTop = changes.isEmpty()
        ? CompletableFuture.completedFuture(top)
        : update(top, levels - 1, 0, changes, session, nextIndex, written, replaced);
    return newTop.thenApply(ptr -> {
      List<PageWrite> reachable = new ArrayList<>();
      keepReachable(ptr, written, reachable);
      synchronized (replaced) {
        return new TreeUpdate(new TreeRoot(levels, ptr), reachable, replaced);
      }
    });
  }

  private CompletableFuture<@Nullable BlockPointer> update(
      @Nullable BlockPointer page, int level, long base, NavigableMap<Long, @Nullable BlockPointer> changes,
      INodeRef session, LongSupplier nextIndex, Map<BlockRef, PageWrite> written,
      List<BlockRef> replaced) {
    CompletableFuture<MapPage> current = page == null
        ? CompletableFuture.completedFuture(MapPage.empty(geometry.blockSize(), level))
        : pageFor(page, level, written);
    return current.thenCompose(old -> {
      MapPage next = old.copy();
      long span = geometry.entrySpan(level);
      List<CompletableFuture<Void>> children = new ArrayList<>();
      Long key = changes.firstKey();
      while (key != null) {
        int s = (int) ((key - base) / span);
        long childBase = base + s * span;
        NavigableMap<Long, @Nullable BlockPointer> sub = changes.subMap(childBase, true, childBase + span, false);
        if (level == 0) {
          BlockPointer before = old.get(s);
          BlockPointer after = sub.get(key);
          next.set(s, after);
          if (before != null && (after == null || !before.ref().equals(after.ref()))) {
            synchronized (replaced) {
              replaced.add(before.ref());
            }
          }
        } else {
          children.add(update(old.get(s), level - 1, childBase, sub, session, nextIndex, written,
              replaced)
              .thenAccept(child -> {
                synchronized (next) {
                  next.set(s, child);
                }
              }));
        }
        key = changes.higherKey(sub.lastKey());
      }
      return Futures.allOf(children).thenApply(v -> next.isEmpty()
          ? null
          : store(next, session, nextIndex, written));
    });
  }

  /** A page image, from this update's own new pages if it made it, else from the store. */
  private CompletableFuture<MapPage> pageFor(BlockPointer page, int level, Map<BlockRef, PageWrite> written) {
    PageWrite own;
    synchronized (written) {
      own = written.get(page.ref());
    }
    return own != null ? CompletableFuture.completedFuture(own.page()) : load(page, level);
  }

  private BlockPointer store(MapPage page, INodeRef session, LongSupplier nextIndex, Map<BlockRef, PageWrite> written) {
    BlockRef ref = BlockRef.of(session, nextIndex.getAsLong(), BlockType.MAP);
    int crc = Crc32c.of(page.image(), 0, page.image().length);
    synchronized (written) {
      written.put(ref, new PageWrite(ref, page, crc));
    }
    return new BlockPointer(ref, crc);
  }

  /** Keeps the new pages the final tree still uses; superseded ones never reach the store. */
  private void keepReachable(@Nullable BlockPointer ptr, Map<BlockRef, PageWrite> written, List<PageWrite> out) {
    if (ptr == null) {
      return;
    }
    PageWrite w = written.get(ptr.ref());
    if (w == null) {
      return;
    }
    out.add(w);
    if (w.page().level() > 0) {
      for (int s = 0; s < w.page().capacity(); s++) {
        keepReachable(w.page().get(s), written, out);
      }
    }
  }

  /** Adds a freshly stored page to the cache, so the next lookup does not read it back. */
  void cache(PageWrite write) {
    cache.put(write.ref(), CompletableFuture.completedFuture(write.page()));
  }

  /**
   * Visits every pointer reachable from {@code root} (pages and data blocks), skipping subtrees
   * whose page {@code visitPage} has already seen (it returns false for those).
   */
  CompletableFuture<Void> walk(
      TreeRoot root, Predicate<BlockPointer> visitPage,
      Consumer<BlockPointer> visitData) {
    if (root.page() == null || !visitPage.test(root.page())) {
      return Futures.done();
    }
    return walk(root.page(), root.levels() - 1, visitPage, visitData);
  }

  private CompletableFuture<Void> walk(
      BlockPointer page, int level, Predicate<BlockPointer> visitPage,
      Consumer<BlockPointer> visitData) {
    return load(page, level).thenCompose(p -> {
      List<CompletableFuture<Void>> children = new ArrayList<>();
      for (int s = 0; s < p.capacity(); s++) {
        BlockPointer entry = p.get(s);
        if (entry == null) {
          continue;
        }
        if (level == 0) {
          visitData.accept(entry);
        } else if (visitPage.test(entry)) {
          children.add(walk(entry, level - 1, visitPage, visitData));
        }
      }
      return Futures.allOf(children);
    });
  }

  /** A page's bytes as a buffer the store may own. */
  static ByteBuf buffer(PageWrite write) {
    return Unpooled.wrappedBuffer(write.page().image());
  }
}
