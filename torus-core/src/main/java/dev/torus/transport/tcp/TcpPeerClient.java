package dev.torus.transport.tcp;

import dev.torus.BlockRef;
import dev.torus.ErrorCode;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.transport.PeerAddress;
import dev.torus.transport.PeerClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The client of one peer: encodes calls and spreads them over the peer's connections.
 *
 * <p>Reconnect: a connection is opened when a call needs it. When opening one fails, the peer is
 * backed off: for {@code reconnectBackoffMin}, doubling with each failure up to {@code
 * reconnectBackoffMax}, calls fail at once with the failure that started the back-off (naming the
 * address) instead of each waiting for a connect timeout. A successful handshake resets it.
 */
final class TcpPeerClient implements PeerClient {
  private final TcpPeerTransport transport;
  private final PeerId peer;
  private final PeerAddress address;
  private final Connection[] connections;
  private final AtomicInteger nextConnection = new AtomicInteger();
  private volatile boolean closed;
  // back-off state, guarded by this
  private int failures;
  private long retryAtNanos;
  private @Nullable TorusException lastFailure;

  TcpPeerClient(TcpPeerTransport transport, PeerId peer, PeerAddress address) {
    this.transport = transport;
    this.peer = peer;
    this.address = address;
    this.connections = new Connection[transport.config().connectionsPerPeer()];
    for (int i = 0; i < connections.length; i++) {
      connections[i] = new Connection(this, transport.group().next());
    }
  }

  @Override
  public PeerId peer() {
    return peer;
  }

  @Override
  public PeerAddress address() {
    return address;
  }

  @Override
  public CompletableFuture<ByteBuf> getBlock(BlockRef ref) {
    String what = "getBlock " + ref;
    return submit(what, Protocol.ref(alloc(), MessageType.GET, 0, ref), readTimeout(),
        answer -> {
          expect(answer, MessageType.BLOCK);
          return Protocol.readBlock(answer.content(), transport.blockSize(),
              "block " + ref + " from peer " + peer + " at " + address);
        });
  }

  @Override
  public CompletableFuture<Void> putBlock(BlockRef ref, ByteBuf data) {
    if (data.readableBytes() != transport.blockSize()) {
      int size = data.readableBytes();
      data.release();
      return CompletableFuture.failedFuture(TorusExceptions.invalid("block " + ref + " has "
          + size + " bytes, expected " + transport.blockSize()));
    }
    return submit("putBlock " + ref, Protocol.put(alloc(), 0, ref, data),
        transport.config().writeTimeout(), this::done);
  }

  @Override
  public CompletableFuture<BitSet> hasBlocks(List<BlockRef> refs) {
    if (refs.isEmpty()) {
      return CompletableFuture.completedFuture(new BitSet());
    }
    // Long lists go as several HAS frames, each within the protocol's limit, asked in parallel.
    List<CompletableFuture<BitSet>> parts = new ArrayList<>();
    for (int from = 0; from < refs.size(); from += Protocol.MAX_REFS_PER_HAS) {
      List<BlockRef> part = refs.subList(from, Math.min(refs.size(),
          from + Protocol.MAX_REFS_PER_HAS));
      parts.add(submit("hasBlocks of " + part.size() + " refs",
          Protocol.has(alloc(), 0, part), readTimeout(), answer -> {
            expect(answer, MessageType.BITSET);
            return Protocol.readBitset(answer.content(), part.size());
          }));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(all -> {
      BitSet held = new BitSet(refs.size());
      for (int p = 0; p < parts.size(); p++) {
        int offset = p * Protocol.MAX_REFS_PER_HAS;
        parts.get(p).join().stream().forEach(bit -> held.set(offset + bit));
      }
      return held;
    });
  }

  @Override
  public CompletableFuture<Void> deleteBlock(BlockRef ref) {
    return submit("deleteBlock " + ref, Protocol.ref(alloc(), MessageType.DELETE, 0, ref),
        transport.config().writeTimeout(), this::done);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return submit("flush", Protocol.empty(alloc(), MessageType.FLUSH, 0),
        transport.config().flushTimeout(), this::done);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    transport.forget(this);
    for (Connection c : connections) {
      c.close();
    }
  }

  private <T> CompletableFuture<T> submit(String what, ByteBuf frame, Duration timeout,
      Call.Reader<T> reader) {
    Call<T> call = new Call<>(what, frame, timeout, reader, transport.callbacks());
    if (closed) {
      call.fail(closedFailure());
    } else {
      leastLoaded().submit(call);
    }
    return call.future();
  }

  /** The connection with the fewest calls, starting the scan in turn so that ties rotate. */
  private Connection leastLoaded() {
    int start = Math.floorMod(nextConnection.getAndIncrement(), connections.length);
    Connection best = connections[start];
    for (int i = 1; i < connections.length; i++) {
      Connection c = connections[(start + i) % connections.length];
      if (c.load() < best.load()) {
        best = c;
      }
    }
    return best;
  }

  private Void done(Frame answer) {
    expect(answer, MessageType.DONE);
    Protocol.readEmpty(answer.content(), MessageType.DONE);
    return null;
  }

  private static void expect(Frame answer, MessageType type) {
    if (answer.type() != type) {
      throw new TorusException(ErrorCode.PROTOCOL, "expected " + type + ", got " + answer);
    }
  }

  private Duration readTimeout() {
    return transport.config().readTimeout();
  }

  private static ByteBufAllocator alloc() {
    return ByteBufAllocator.DEFAULT;
  }

  TcpPeerTransport transport() {
    return transport;
  }

  /** A failure the peer reported, with the peer named in front of its message. */
  TorusException remoteFailure(TorusException reported) {
    return new TorusException(reported.code(), "peer " + peer + " at " + address + ": "
        + reported.getMessage());
  }

  TorusException closedFailure() {
    return TorusExceptions.closed("client of peer " + peer + " at " + address);
  }

  TorusException unavailable(String message, @Nullable Throwable cause) {
    return TorusExceptions.unavailable("peer " + peer + " at " + address + ": " + message, cause);
  }

  /** The failure to fail a call with at once while the peer is backed off, else null. */
  synchronized @Nullable TorusException backedOff() {
    long wait = retryAtNanos - System.nanoTime();
    if (lastFailure == null || wait <= 0) {
      return null;
    }
    return new TorusException(lastFailure.code(), lastFailure.getMessage()
        + " (next attempt in " + TimeUnit.NANOSECONDS.toMillis(wait) + " ms)", lastFailure);
  }

  synchronized void connectFailed(TorusException failure) {
    Duration min = transport.config().reconnectBackoffMin();
    Duration max = transport.config().reconnectBackoffMax();
    Duration backoff = min.multipliedBy(1L << Math.min(failures, 20));
    failures++;
    retryAtNanos = System.nanoTime() + (backoff.compareTo(max) > 0 ? max : backoff).toNanos();
    lastFailure = failure;
  }

  synchronized void connected() {
    failures = 0;
    lastFailure = null;
  }

  @Override
  public String toString() {
    return "TcpPeerClient(" + peer + " at " + address + ")";
  }
}
