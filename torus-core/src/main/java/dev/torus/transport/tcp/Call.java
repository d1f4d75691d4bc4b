package dev.torus.transport.tcp;

import dev.torus.TorusException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One client request from the call to its answer: the encoded frame (owned until it is written),
 * the deadline, how to read the answer, and the caller's future.
 *
 * <p>Concurrency: made on the caller's thread, then touched only on its connection's event loop.
 * The future completes on the transport's callback executor, so callers' stages never run inside
 * the connection's state changes; a result nobody takes (the caller cancelled) is released.
 */
final class Call<T> {
  /** Reads a successful answer; fails with a {@link TorusException}. */
  interface Reader<T> {
    T read(Frame answer);
  }

  private final String what;
  private final Duration timeout;
  private final long deadlineNanos;
  private final Reader<T> reader;
  private final Executor callbacks;
  private final CompletableFuture<T> future = new CompletableFuture<>();
  private @Nullable ByteBuf frame;
  private @Nullable ScheduledFuture<?> timer;
  private int requestId;

  Call(String what, ByteBuf frame, Duration timeout, Reader<T> reader, Executor callbacks) {
    this.what = what;
    this.frame = frame;
    this.timeout = timeout;
    this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    this.reader = reader;
    this.callbacks = callbacks;
  }

  /** What the call does, for messages: {@code getBlock d:1:2:3}. */
  String what() {
    return what;
  }

  Duration timeout() {
    return timeout;
  }

  CompletableFuture<T> future() {
    return future;
  }

  int requestId() {
    return requestId;
  }

  /** Starts the deadline timer on the connection's event loop; the deadline runs from the call. */
  void arm(EventLoop loop, Runnable onExpiry) {
    timer = loop.schedule(onExpiry, deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
  }

  /** Numbers the frame and hands it over for writing. */
  ByteBuf send(int id) {
    ByteBuf out = frame;
    if (out == null) {
      throw new IllegalStateException(what + " was sent twice");
    }
    requestId = id;
    frame = null;
    Protocol.setRequestId(out, id);
    return out;
  }

  /** Completes the call with its answer; the answer frame stays owned by the caller. */
  void answer(Frame answer, TcpPeerClient peer) {
    T value;
    try {
      if (answer.type() == MessageType.ERROR) {
        throw peer.remoteFailure(Protocol.readError(answer.content()));
      }
      value = reader.read(answer);
    } catch (TorusException e) {
      fail(e);
      return;
    }
    stopTimer();
    complete(() -> {
      if (!future.complete(value)) {
        ReferenceCountUtil.release(value);
      }
    });
  }

  /** Fails the call, releasing its frame if it was never written. */
  void fail(TorusException failure) {
    stopTimer();
    if (frame != null) {
      frame.release();
      frame = null;
    }
    complete(() -> future.completeExceptionally(failure));
  }

  private void stopTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void complete(Runnable completion) {
    try {
      callbacks.execute(completion);
    } catch (RejectedExecutionException e) {
      completion.run();
    }
  }
}
