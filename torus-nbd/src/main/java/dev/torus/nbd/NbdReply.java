package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The server's whole answer to one request, independent of framing: {@link ReplyEncoder} turns it
 * into a simple reply, structured chunks or extended chunks as the connection negotiated.
 *
 * <p>Ownership: a reply that carries buffers owns them. Writing it to the channel hands them to
 * Netty; a reply that will not be written must be {@link #discard() discarded}.
 */
sealed interface NbdReply permits NbdReply.Done, NbdReply.Failed, NbdReply.Read, NbdReply.Status {
  /** The request's cookie. */
  long cookie();

  /** The request's offset (extended reply headers echo it). */
  long offset();

  /** Releases any buffers, for a reply that will not be written. */
  default void discard() {}

  /** Success without data. */
  record Done(long cookie, long offset) implements NbdReply {}

  /** Failure; {@code message} is shown to the user by clients that get structured replies. */
  record Failed(long cookie, long offset, NbdError error, String message) implements NbdReply {}

  /**
   * Read data as consecutive segments covering the request, in order. An empty list answers a
   * zero-length read.
   */
  record Read(long cookie, long offset, List<Segment> segments) implements NbdReply {
    @Override
    public void discard() {
      for (Segment s : segments) {
        if (s.data() != null) {
          s.data().release();
        }
      }
    }
  }

  /**
   * Part of a read: {@code length} bytes at {@code offset}, either {@code data} or a hole (null
   * data) that reads as zeroes.
   */
  record Segment(long offset, int length, @Nullable ByteBuf data) {}

  /** Block status for one metadata context. */
  record Status(long cookie, long offset, int contextId, List<StatusExtent> extents)
      implements NbdReply {}

  /** One block status descriptor: a length and the context's status flags. */
  record StatusExtent(long length, int flags) {}
}
