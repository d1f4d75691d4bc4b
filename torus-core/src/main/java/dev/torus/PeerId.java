package dev.torus;

import java.util.Objects;
import java.util.UUID;

/** A storage node's identity: the UUID it generated on first start and keeps in its data dir. */
public record PeerId(String uuid) implements Comparable<PeerId> {
  public PeerId {
    Objects.requireNonNull(uuid, "uuid");
    if (uuid.isBlank()) {
      throw new IllegalArgumentException("peer uuid is blank");
    }
  }

  /** A fresh random id. */
  public static PeerId random() {
    return new PeerId(UUID.randomUUID().toString());
  }

  @Override
  public int compareTo(PeerId o) {
    return uuid.compareTo(o.uuid);
  }

  @Override
  public String toString() {
    return uuid;
  }
}
