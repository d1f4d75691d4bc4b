package dev.torus.nbd;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What the server tells clients about an export before opening it: the answer to {@code
 * NBD_OPT_LIST} and {@code NBD_OPT_INFO}. Once a client enters transmission, the size, block size
 * and read-only state come from the opened {@link dev.torus.volume.BlockDevice} itself.
 *
 * @param name the export name clients ask for (at most 4096 bytes of UTF-8)
 * @param description human-readable text for clients to display, or empty for the server's default
 * @param size size in bytes
 * @param blockSize preferred I/O size in bytes (the device's block size)
 * @param readOnly whether the export refuses writes
 * @param multiConn whether a flush on one connection makes writes completed on every other
 *     connection to this export durable, and all connections see each other's completed writes.
 *     True when every connection shares one device object (or one coherent cache); advertised to
 *     clients as {@code NBD_FLAG_CAN_MULTI_CONN}, which lets them open several connections.
 */
public record ExportInfo(
    String name,
    String description,
    long size,
    int blockSize,
    boolean readOnly,
    boolean multiConn) {
  public ExportInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    if (name.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING_LENGTH) {
      throw new IllegalArgumentException("export name longer than 4096 bytes: " + name);
    }
    if (size < 0 || blockSize <= 0) {
      throw new IllegalArgumentException("export " + name + ": size " + size + ", block size "
          + blockSize);
    }
  }
}
