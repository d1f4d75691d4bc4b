package dev.torus.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import org.jspecify.annotations.Nullable;

/**
 * One decoded frame: the header fields and the body, a retained slice of the received bytes. The
 * holder owns the body; whoever handles the frame releases it.
 */
final class Frame extends DefaultByteBufHolder {
  private final int version;
  private final int typeCode;
  private final int requestId;

  Frame(int version, int typeCode, int requestId, ByteBuf body) {
    super(body);
    this.version = version;
    this.typeCode = typeCode;
    this.requestId = requestId;
  }

  int version() {
    return version;
  }

  int typeCode() {
    return typeCode;
  }

  /** The message type, or null for a code this version does not know. */
  @Nullable MessageType type() {
    return MessageType.fromCode(typeCode);
  }

  int requestId() {
    return requestId;
  }

  @Override
  public Frame retain() {
    super.retain();
    return this;
  }

  @Override
  public String toString() {
    MessageType type = type();
    return "Frame(" + (type == null ? String.format("0x%02x", typeCode) : type) + ", id "
        + Integer.toUnsignedString(requestId) + ", " + content().readableBytes() + " bytes)";
  }
}
