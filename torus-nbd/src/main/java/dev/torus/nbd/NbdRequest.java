package dev.torus.nbd;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * One transmission request as framed by {@link RequestDecoder}; nothing is validated yet. The
 * 16-bit type and 16-bit flags are kept apart (the Linux driver packs flags into the upper half of
 * a 32-bit type; it is the same wire layout).
 *
 * @param flags command flags ({@code NBD_CMD_FLAG_*})
 * @param type request type; see {@link NbdCommand#fromCode}
 * @param cookie opaque client value, echoed in every reply chunk
 * @param offset byte offset as sent (u64: negative means beyond 2^63)
 * @param length effect length, or payload length for requests with a payload (u32 in compact
 *     requests, u64 in extended ones: negative means beyond 2^63)
 * @param payload the write data as a retained slice, owned by whoever handles the request; null if
 *     the request has none, or its payload was longer than the connection's maximum and was skipped
 * @param blockCrcs the CRC-32C of each whole aligned block of the device in the payload, taken as
 *     it was received ({@link PayloadReceiver}); null when none were taken
 */
record NbdRequest(int flags, int type, long cookie, long offset, long length,
    @Nullable ByteBuf payload, int @Nullable [] blockCrcs) {
  NbdRequest(int flags, int type, long cookie, long offset, long length,
      @Nullable ByteBuf payload) {
    this(flags, type, cookie, offset, length, payload, null);
  }

  boolean hasFlag(int flag) {
    return (flags & flag) != 0;
  }
}
