package dev.torus.distributor;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.ReadLevel;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.WriteLevel;
import dev.torus.internal.buffer.Crc32c;
import dev.torus.internal.concurrent.Futures;
import dev.torus.ring.PeerPermutation;
import dev.torus.storage.BlockStore;
import dev.torus.storage.StoreStats;
import dev.torus.transport.PeerService;
import dev.torus.transport.PeerTransport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster as one {@link BlockStore}: every block goes to the peers the current ring names,
 * and is read back from whichever of them answers. Thread-safe.
 *
 * <p>Writes ({@link WriteLevel}): {@code all} sends the block to every owner at once and succeeds
 * only when as many distinct peers as the ring's replication acknowledged it; an owner that fails
 * is replaced by the next peer of the ring's order, where reads still find it (they fall through
 * to the rest of the ring); no rebalancer exists yet to move it back to the owner. If the ring
 * runs out of peers first, the write fails and says how many copies exist: partial
 * replication is never reported as success (the Go original did). {@code one} succeeds with the
 * first acknowledgement and lets the rest finish in the background; {@code local} writes only to
 * this node.
 *
 * <p>Durability: {@link #flush()} flushes every peer that acknowledged a put since the previous
 * flush began, in parallel, and fails if any of them cannot confirm.
 *
 * <p>Reads ({@link ReadLevel}) try this node first when it is an owner, then the owners, then the
 * rest of the ring; a peer that fails, times out, lacks the block or returns damaged bytes is
 * skipped. Every candidate failing with {@code NOT_FOUND} ends the read with {@code NOT_FOUND};
 * otherwise {@code UNAVAILABLE}, naming each peer and why.
 *
 * <p>Read cache: whole blocks by ref, for blocks fetched from other nodes (this node's own store
 * is served from the page cache, and copying its blocks into the cache would only cost). A write
 * under a ref drops the cached copy, and a read that raced with any write is not cached, so the
 * cache never serves bytes older than the
 * last write this node made.
 */
public final class Distributor implements BlockStore {
  private static final Logger log = LoggerFactory.getLogger(Distributor.class);

  private final DistributorConfig config;
  private final @Nullable PeerId self;
  private final @Nullable BlockStore local;
  private final @Nullable PeerService localService;
  private final Membership membership;
  private final PeerTransport transport;
  private final ScheduledExecutorService scheduler;
  private final int blockSize;
  private final @Nullable Cache<BlockRef, byte[]> cache;
  private final AtomicLong writes = new AtomicLong();
  private final AtomicReference<Set<PeerId>> unflushed = new AtomicReference<>(ConcurrentHashMap.newKeySet());
  private final Counter cacheHits;
  private final Counter readFailures;
  private final Counter shortWrites;
  private volatile boolean closed;

  private Distributor(DistributorConfig config, int blockSize, @Nullable PeerId self,
      @Nullable BlockStore local, Membership membership, PeerTransport transport,
      ScheduledExecutorService scheduler, MeterRegistry meters) {
    if ((self == null) != (local == null)) {
      throw new IllegalArgumentException("a node has both an id and a local store, a client neither");
    }
    if (local != null && local.blockSize() != blockSize) {
      throw TorusExceptions.invalid("local store block size " + local.blockSize()
          + " differs from the cluster's " + blockSize);
    }
    if (config.writeLevel() == WriteLevel.LOCAL && local == null) {
      throw TorusExceptions.invalid("write level 'local' needs local storage; clients use 'all' or 'one'");
    }
    this.config = config;
    this.blockSize = blockSize;
    this.self = self;
    this.local = local;
    this.localService = local == null ? null : PeerService.of(local);
    this.membership = membership;
    this.transport = transport;
    this.scheduler = scheduler;
    long entries = config.readCache().bytes() / blockSize;
    this.cache = entries == 0 ? null : Caffeine.newBuilder().maximumSize(entries).build();
    this.cacheHits = Counter.builder("torus_distributor_cache_hits").register(meters);
    this.readFailures = Counter.builder("torus_distributor_read_failures").register(meters);
    this.shortWrites = Counter.builder("torus_distributor_short_writes").register(meters);
  }

  /**
   * A distributor for a storage node: {@code self} is this node's id and {@code local} its store
   * (owned by the caller). Pass both null for a client that stores nothing itself.
   */
  public static Distributor create(DistributorConfig config, int blockSize, @Nullable PeerId self,
      @Nullable BlockStore local, Membership membership, PeerTransport transport,
      ScheduledExecutorService scheduler, MeterRegistry meters) {
    return new Distributor(config, blockSize, self, local, membership, Objects.requireNonNull(transport),
        scheduler, meters);
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  /** The service for a peer: the local store for this node, else a transport client. */
  private PeerService service(PeerId peer) {
    if (peer.equals(self)) {
      return localService;
    }
    String address = membership.peer(peer).map(p -> p.address()).orElse("");
    if (address.isEmpty()) {
      throw TorusExceptions.unavailable("peer " + peer + " is not registered (down?)", null);
    }
    return transport.client(peer, address);
  }

  private static <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  // ---- reads

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    return read(ref, null, false);
  }

  /**
   * Reads a block and accepts a copy only if it has {@code expectedCrc}: a replica that missed an
   * in-place rewrite of an uncommitted block (it was down when the rewrite went to a substitute)
   * holds a self-consistent but stale copy, and this read skips it for one that matches.
   */
  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref, int expectedCrc) {
    return read(ref, expectedCrc, false);
  }

  /** As {@link #getBlock(BlockRef, int)}; this node's own copy is read in parallel on its store. */
  @Override
  public CompletableFuture<ByteBuf> getBlockInParallel(BlockRef ref, int expectedCrc) {
    return read(ref, expectedCrc, true);
  }

  private CompletableFuture<ByteBuf> read(BlockRef ref, @Nullable Integer expectedCrc,
      boolean inParallel) {
    if (closed) {
      return CompletableFuture.failedFuture(TorusExceptions.closed("distributor"));
    }
    byte[] hit = cache == null ? null : cache.getIfPresent(ref);
    if (hit != null && (expectedCrc == null || Crc32c.of(hit, 0, hit.length) == expectedCrc)) {
      cacheHits.increment();
      return CompletableFuture.completedFuture(Unpooled.wrappedBuffer(hit).asReadOnly());
    }
    List<PeerId> order;
    try {
      order = readOrder(membership.ring().peersFor(ref));
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
    Attempt attempt = new Attempt(ref, expectedCrc, inParallel);
    long writesBefore = writes.get();
    CompletableFuture<ByteBuf> read = switch (config.readLevel()) {
      case SEQ -> sequential(attempt, order, 0);
      case BLOCK -> rounds(attempt, order, 1);
      case SPREAD -> spread(attempt, order);
    };
    return read.whenComplete((buf, e) -> {
      if (e != null) {
        readFailures.increment();
      } else if (cache != null && writes.get() == writesBefore && !attempt.servedLocally(self)) {
        cache.put(ref, ByteBufUtil.getBytes(buf));
      }
    });
  }

  /** This node first if it owns the block, then the other owners, then the rest of the ring. */
  private List<PeerId> readOrder(PeerPermutation perm) {
    List<PeerId> order = new ArrayList<>(perm.peers());
    if (self != null && perm.owners().contains(self)) {
      order.remove(self);
      order.add(0, self);
    } else if (self != null && config.writeLevel() == WriteLevel.LOCAL && !order.contains(self)) {
      order.add(0, self);
    }
    return order;
  }

  /**
   * One read: the block, the checksum it must have (if known), whether it is one of several blocks
   * read at once, and why each peer failed.
   */
  private static final class Attempt {
    final BlockRef ref;
    final @Nullable Integer expectedCrc;
    final boolean inParallel;
    final List<String> why = new ArrayList<>();
    final Set<ErrorCode> codes = EnumSet.noneOf(ErrorCode.class);
    volatile @Nullable PeerId servedBy;

    Attempt(BlockRef ref, @Nullable Integer expectedCrc, boolean inParallel) {
      this.ref = ref;
      this.expectedCrc = expectedCrc;
      this.inParallel = inParallel && expectedCrc != null;
    }

    /** Reads from one peer, turning a copy with the wrong checksum into a CORRUPTED failure. */
    CompletableFuture<ByteBuf> from(PeerId peer, PeerService service) {
      return service.getBlock(ref).thenApply(buf -> {
        if (expectedCrc != null && Crc32c.of(buf) != expectedCrc) {
          buf.release();
          throw TorusExceptions.corrupted("stale or damaged copy");
        }
        servedBy = peer;
        return buf;
      });
    }

    /** Reads this node's own copy with {@link BlockStore#getBlockInParallel}, which checks it. */
    CompletableFuture<ByteBuf> fromOwnStoreInParallel(PeerId self, BlockStore store) {
      return store.getBlockInParallel(ref, Objects.requireNonNull(expectedCrc)).thenApply(buf -> {
        servedBy = self;
        return buf;
      });
    }

    boolean servedLocally(@Nullable PeerId self) {
      return self != null && self.equals(servedBy);
    }

    synchronized void failed(PeerId peer, Throwable e) {
      TorusException te = TorusExceptions.unwrap(e);
      codes.add(te.code());
      why.add(peer + (te.code() == ErrorCode.NOT_FOUND ? ": not found" : ": " + te.getMessage()));
    }

    /**
     * The failure once every candidate failed: missing everywhere is NOT_FOUND; damaged or stale
     * where present is CORRUPTED; anything else (a peer could not be asked) is UNAVAILABLE.
     */
    synchronized TorusException exhausted(boolean peersExisted) {
      String tried = peersExisted ? "tried " + String.join(", ", why) : "no peers in the ring";
      if (codes.size() == 1 && codes.contains(ErrorCode.NOT_FOUND)) {
        return new TorusException(ErrorCode.NOT_FOUND, "block " + ref + " does not exist (" + tried + ")");
      }
      if (codes.contains(ErrorCode.CORRUPTED)
          && EnumSet.of(ErrorCode.CORRUPTED, ErrorCode.NOT_FOUND).containsAll(codes)) {
        return TorusExceptions.corrupted("no replica of block " + ref + " holds the expected bytes ("
            + tried + ")");
      }
      return TorusExceptions.unavailable("block " + ref + " is unavailable: " + tried, null);
    }

    synchronized void reset() {
      why.clear();
      codes.clear();
    }
  }

  /** One peer's copy; this node's own from its store on the store's threads when asked. */
  private CompletableFuture<ByteBuf> readFrom(Attempt attempt, PeerId peer) {
    if (attempt.inParallel && local != null && peer.equals(self)) {
      return attempt.fromOwnStoreInParallel(peer, local);
    }
    return attempt.from(peer, service(peer));
  }

  private CompletableFuture<ByteBuf> sequential(Attempt attempt, List<PeerId> order, int i) {
    if (i >= order.size()) {
      return CompletableFuture.failedFuture(attempt.exhausted(!order.isEmpty()));
    }
    PeerId peer = order.get(i);
    return call(() -> readFrom(attempt, peer)).handle((buf, e) -> {
      if (e == null) {
        return CompletableFuture.completedFuture(buf);
      }
      attempt.failed(peer, e);
      return sequential(attempt, order, i + 1);
    }).thenCompose(f -> f);
  }

  private CompletableFuture<ByteBuf> rounds(Attempt attempt, List<PeerId> order, int round) {
    return sequential(attempt, order, 0).handle((buf, e) -> {
      if (e == null) {
        return CompletableFuture.completedFuture(buf);
      }
      TorusException te = TorusExceptions.unwrap(e);
      if (te.code() == ErrorCode.NOT_FOUND || te.code() == ErrorCode.CORRUPTED
          || round >= config.readRounds()) {
        return CompletableFuture.<ByteBuf>failedFuture(te);
      }
      attempt.reset();
      long pause = config.roundBackoff().toMillis() << (round - 1);
      CompletableFuture<ByteBuf> next = new CompletableFuture<>();
      scheduler.schedule(() -> rounds(attempt, order, round + 1).whenComplete((b, x) -> {
        if (x == null) {
          next.complete(b);
        } else {
          next.completeExceptionally(x);
        }
      }), pause, TimeUnit.MILLISECONDS);
      return next;
    }).thenCompose(f -> f);
  }

  /** Every owner at once, first good answer wins; then the others in order. */
  private CompletableFuture<ByteBuf> spread(Attempt attempt, List<PeerId> order) {
    List<PeerId> owners = membership.ring().peersFor(attempt.ref).owners();
    CompletableFuture<ByteBuf> first = new CompletableFuture<>();
    AtomicLong failures = new AtomicLong();
    for (PeerId peer : owners) {
      call(() -> readFrom(attempt, peer)).whenComplete((buf, e) -> {
        if (e == null) {
          if (!first.complete(buf)) {
            buf.release(); // a faster owner already answered
          }
        } else {
          attempt.failed(peer, e);
          if (failures.incrementAndGet() == owners.size()) {
            first.completeExceptionally(e);
          }
        }
      });
    }
    if (owners.isEmpty()) {
      first.completeExceptionally(TorusExceptions.unavailable("no owners for block " + attempt.ref, null));
    }
    return first.handle((buf, e) -> e == null
        ? CompletableFuture.completedFuture(buf)
        : sequential(attempt, order.stream().filter(p -> !owners.contains(p)).toList(), 0))
        .thenCompose(f -> f);
  }

  @Override
  public CompletableFuture<Boolean> hasBlock(BlockRef ref) {
    return getBlock(ref).handle((buf, e) -> {
      if (e == null) {
        buf.release();
        return true;
      }
      TorusException te = TorusExceptions.unwrap(e);
      if (te.code() == ErrorCode.NOT_FOUND) {
        return false;
      }
      throw te;
    });
  }

  // ---- writes

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    try {
      if (closed) {
        throw TorusExceptions.closed("distributor");
      }
      if (data.readableBytes() != blockSize) {
        throw TorusExceptions.invalid("block " + ref + " has " + data.readableBytes()
            + " bytes, expected " + blockSize);
      }
      writes.incrementAndGet();
      if (cache != null) {
        cache.invalidate(ref);
      }
      if (config.writeLevel() == WriteLevel.LOCAL) {
        return putTo(self, ref, data.retain());
      }
      PeerPermutation perm = membership.ring().peersFor(ref);
      int need = config.writeLevel() == WriteLevel.ALL ? perm.replication() : 1;
      return new Replication(ref, data, perm, need).start();
    } catch (RuntimeException e) {
      if (cache != null) {
        cache.invalidate(ref);
      }
      return CompletableFuture.failedFuture(e);
    } finally {
      data.release();
    }
  }

  /** Puts to one peer and remembers it for the next flush. Takes ownership of {@code data}. */
  private CompletableFuture<Void> putTo(PeerId peer, BlockRef ref, ByteBuf data) {
    CompletableFuture<Void> put;
    try {
      put = service(peer).putBlock(ref, data);
    } catch (RuntimeException e) {
      data.release();
      return CompletableFuture.failedFuture(e);
    }
    return put.thenRun(() -> unflushed.get().add(peer));
  }

  /**
   * One replicated write: owners in parallel, and for each failure the next spare peer of the
   * ring. Holds one reference to the block until the last attempt has been sent.
   */
  private final class Replication {
    private final BlockRef ref;
    private final ByteBuf data;
    private final List<PeerId> owners;
    private final List<PeerId> spare;
    private final int need;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final List<String> failures = new ArrayList<>();
    private final Set<ErrorCode> failureCodes = EnumSet.noneOf(ErrorCode.class);
    private int acked;
    private int running;
    private boolean sealed;

    Replication(BlockRef ref, ByteBuf data, PeerPermutation perm, int need) {
      this.ref = ref;
      this.data = data.retain();
      this.owners = perm.owners();
      this.spare = new ArrayList<>(perm.peers().subList(perm.replication(), perm.peers().size()));
      this.need = need;
    }

    CompletableFuture<Void> start() {
      synchronized (this) {
        running = owners.size(); // reserved before any reply can arrive
      }
      for (PeerId owner : owners) {
        launch(owner);
      }
      synchronized (this) {
        maybeFinish();
      }
      return done;
    }

    private void launch(PeerId peer) {
      putTo(peer, ref, data.retainedDuplicate()).whenComplete((v, e) -> settle(peer, e));
    }

    private void settle(PeerId peer, @Nullable Throwable e) {
      PeerId substitute = null;
      synchronized (this) {
        running--;
        if (e == null) {
          acked++;
          if (acked >= need) {
            done.complete(null);
          }
        } else {
          TorusException te = TorusExceptions.unwrap(e);
          failures.add(peer + ": " + te.getMessage());
          failureCodes.add(te.code());
          if (!done.isDone() && !spare.isEmpty()) {
            substitute = spare.remove(0);
            running++;
          }
        }
        maybeFinish();
      }
      if (substitute != null) {
        log.debug("block {}: {} failed, writing to {} instead", ref, peer, substitute);
        launch(substitute);
      }
    }

    /** Once nothing is in flight: releases the block and fails the write if too few took it. */
    private void maybeFinish() {
      if (running > 0 || sealed) {
        return;
      }
      sealed = true;
      data.release();
      if (!done.isDone()) {
        shortWrites.increment();
        // One cause everywhere (say, every node is full) is what the caller should see.
        ErrorCode code = failureCodes.size() == 1 ? failureCodes.iterator().next() : ErrorCode.UNAVAILABLE;
        done.completeExceptionally(new TorusException(code, "block " + ref + " was written to "
            + acked + " of " + need + " replicas" + (failures.isEmpty() ? "" : " ("
            + String.join("; ", failures) + ")") + "; the ring has no more peers to try"));
      }
    }
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    if (cache != null) {
      cache.invalidate(ref);
    }
    writes.incrementAndGet();
    List<CompletableFuture<Void>> deletes = new ArrayList<>();
    try {
      for (PeerId peer : membership.ring().peersFor(ref).peers()) {
        deletes.add(call(() -> service(peer).deleteBlock(ref)));
      }
    } catch (TorusException e) {
      return CompletableFuture.failedFuture(e);
    }
    return Futures.allOf(deletes);
  }

  @Override
  public CompletableFuture<Void> flush() {
    Set<PeerId> peers = unflushed.getAndSet(ConcurrentHashMap.newKeySet());
    List<CompletableFuture<@Nullable String>> results = new ArrayList<>();
    for (PeerId peer : peers) {
      results.add(call(() -> service(peer).flush()).handle((v, e) -> {
        if (e == null) {
          return null;
        }
        unflushed.get().add(peer); // not durable yet: the next flush must try it again
        return peer + ": " + TorusExceptions.unwrap(e).getMessage();
      }));
    }
    return Futures.allOf(results).thenAccept(v -> {
      List<String> failed = results.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList();
      if (!failed.isEmpty()) {
        throw TorusExceptions.unavailable("flush failed on " + String.join("; ", failed), null);
      }
    });
  }

  @Override
  public CompletableFuture<List<BlockRef>> listBlocks() {
    return local == null ? CompletableFuture.completedFuture(List.of()) : local.listBlocks();
  }

  @Override
  public StoreStats stats() {
    return local == null ? new StoreStats(blockSize, 0, 0) : local.stats();
  }

  /** Stops using the cluster; the local store, transport and membership stay open. */
  @Override
  public void close() {
    closed = true;
    if (cache != null) {
      cache.invalidateAll();
    }
  }
}
