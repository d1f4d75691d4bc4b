package dev.torus.transport;

import dev.torus.BlockRef;
import dev.torus.storage.BlockStore;
import io.netty.buffer.ByteBuf;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What one node offers its peers: the block calls the distributor makes across the network (Go:
 * the {@code TorusStorage} RPC service, extended with delete and flush).
 *
 * <p>Thread-safety: implementations are called concurrently. A server calls them on its I/O
 * threads, so they must not block: return a future that completes elsewhere (an in-memory store
 * may complete it at once).
 *
 * <p>Buffer ownership follows {@link BlockStore}: a returned {@link ByteBuf} belongs to the caller,
 * who releases it; a {@code ByteBuf} passed in belongs to the callee from the call on, and the
 * callee releases it exactly once on every path, failure included.
 *
 * <p>Failure: futures fail with a {@link dev.torus.TorusException}; its {@link
 * dev.torus.ErrorCode} and message reach the remote caller unchanged. {@code NOT_FOUND} for a
 * missing block; {@code CORRUPTED} if bytes failed a checksum; {@code UNAVAILABLE} or {@code
 * TIMEOUT} (clients only) when the peer could not be asked or did not answer in time. A timed-out
 * put or delete may still have happened; both are idempotent, so retrying is safe.
 */
public interface PeerService {
  /** Reads a block; the result holds exactly one block of the cluster's block size. */
  CompletableFuture<ByteBuf> getBlock(BlockRef ref);

  /**
   * Stores a block, replacing any block with the same ref; takes ownership of {@code data}, which
   * must hold exactly one block. Not durable until a later {@link #flush()} completes.
   */
  CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data);

  /**
   * Which of {@code refs} this peer holds: bit {@code i} is set when {@code refs.get(i)} is stored.
   * The rebalancer's check before it copies blocks to their new owners.
   */
  CompletableFuture<BitSet> hasBlocks(List<BlockRef> refs);

  /** Removes a block; removing a missing block succeeds. */
  CompletableFuture<Void> deleteBlock(BlockRef ref);

  /**
   * The durability barrier on this peer: completes after the peer's store flush, so that every put
   * and delete acknowledged before this call was made is on stable storage.
   */
  CompletableFuture<Void> flush();

  /**
   * The service a node offers for its local store: each call goes straight to {@code store}. The
   * store stays owned by the caller; closing a server does not close it.
   */
  static PeerService of(BlockStore store) {
    return new StorePeerService(store);
  }
}
