package dev.torus.server;

import dev.torus.PeerId;
import dev.torus.TorusExceptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A node's data directory: {@code uuid} (the node's identity, made on first start) and {@code
 * blocks/} (the block store).
 */
record DataDir(Path root) {
  Path blocks() {
    return root.resolve("blocks");
  }

  /** The node id kept in {@code uuid}, creating it durably on first start. */
  PeerId nodeId() {
    Path file = root.resolve("uuid");
    try {
      Files.createDirectories(root);
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (id.isEmpty()) {
          throw TorusExceptions.corrupted(file + " is empty; restore it or remove the data dir");
        }
        return new PeerId(id);
      }
      PeerId id = PeerId.random();
      Path tmp = root.resolve("uuid.tmp");
      Files.writeString(tmp, id.uuid(), StandardCharsets.UTF_8);
      try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        c.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      try (FileChannel dir = FileChannel.open(root, StandardOpenOption.READ)) {
        dir.force(true);
      }
      return id;
    } catch (IOException e) {
      throw TorusExceptions.io("data dir " + root, e);
    }
  }

  /** Bytes for a {@code --size} value: a byte size, or {@code N%} of the data dir's file system. */
  long capacity(String size) {
    if (!size.endsWith("%")) {
      return dev.torus.DataSize.parse(size).bytes();
    }
    int percent;
    try {
      percent = Integer.parseInt(size.substring(0, size.length() - 1).trim());
    } catch (NumberFormatException e) {
      throw TorusExceptions.invalid("invalid --size '" + size + "': use a size like 10GiB or a percentage like 50%");
    }
    if (percent < 1 || percent > 100) {
      throw TorusExceptions.invalid("--size percentage must be 1-100, got " + percent);
    }
    try {
      Files.createDirectories(root);
      return Files.getFileStore(root).getTotalSpace() / 100 * percent;
    } catch (IOException e) {
      throw TorusExceptions.io("data dir " + root, e);
    }
  }
}
