package dev.torus.metadata.kv;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.torus.BlockRef;
import dev.torus.PeerId;
import dev.torus.TorusException;
import dev.torus.TorusExceptions;
import dev.torus.VolumeId;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.LockInfo;
import dev.torus.metadata.PeerInfo;
import dev.torus.metadata.SnapshotInfo;
import dev.torus.metadata.VolumeRoot;
import dev.torus.ring.Ring;
import dev.torus.ring.RingMember;
import dev.torus.ring.RingType;
import dev.torus.ring.Rings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes metadata records in the protobuf wire format, so that records written by a newer Torus
 * stay readable by an older one (unknown fields are skipped) and the other way round (missing
 * fields take defaults). The message schemas are listed in {@code docs/etcd-keys.md}; field
 * numbers are never reused.
 *
 * <p>Hand-written over protobuf-java's coded streams rather than generated, because the records
 * are few and small and this keeps wire classes out of the API entirely.
 */
final class RecordCodec {
  private RecordCodec() {}

  /** Wraps protobuf's checked writer so each record encoder stays a few lines. */
  private interface Body {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] encode(Body body) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      body.write(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads fields until the end; {@code field} returns false for tags it does not know. */
  private interface FieldReader {
    boolean read(int field, CodedInputStream in) throws IOException;
  }

  private static void decode(String key, String type, byte[] value, FieldReader reader) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(value);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (!reader.read(tag >>> 3, in) && !in.skipField(tag)) {
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      throw corrupt(key, type, e);
    }
  }

  static TorusException corrupt(String key, String type, Exception e) {
    String detail = e instanceof InvalidProtocolBufferException || e.getMessage() == null
        ? e.getClass().getSimpleName() : e.getMessage();
    return TorusExceptions.corrupted("metadata value at " + key + " is not a valid " + type
        + " record (" + detail + "); it was written by something other than this Torus version,"
        + " inspect it with 'etcdctl get " + key + "' or remove it");
  }

  // ---- counters (volume-counter, sessions) and name index

  static byte[] counter(long value) {
    return encode(out -> out.writeUInt64(1, value));
  }

  static long counter(String key, byte[] value) {
    long[] v = {0};
    decode(key, "counter", value, (f, in) -> {
      if (f == 1) {
        v[0] = in.readUInt64();
        return true;
      }
      return false;
    });
    return v[0];
  }

  // ---- global

  static byte[] global(GlobalMetadata g) {
    return encode(out -> {
      out.writeUInt32(1, g.blockSize());
      out.writeString(2, g.blockSpec());
    });
  }

  static GlobalMetadata global(String key, byte[] value) {
    int[] size = {0};
    String[] spec = {GlobalMetadata.CRC32C};
    decode(key, "global", value, (f, in) -> {
      switch (f) {
        case 1 -> size[0] = in.readUInt32();
        case 2 -> spec[0] = in.readString();
        default -> {
          return false;
        }
      }
      return true;
    });
    try {
      return new GlobalMetadata(size[0], spec[0]);
    } catch (IllegalArgumentException e) {
      throw corrupt(key, "global", e);
    }
  }

  // ---- volume info (size lives in the root record)

  /** A volume's identity record. */
  record VolumeRecord(VolumeId id, String name, Instant created, String origin) {}

  static byte[] volume(VolumeRecord v) {
    return encode(out -> {
      out.writeUInt64(1, v.id().value());
      out.writeString(2, v.name());
      out.writeInt64(3, v.created().toEpochMilli());
      if (!v.origin().isEmpty()) {
        out.writeString(4, v.origin());
      }
    });
  }

  static VolumeRecord volume(String key, byte[] value) {
    long[] nums = {0, 0};
    String[] strs = {"", ""};
    decode(key, "volume", value, (f, in) -> {
      switch (f) {
        case 1 -> nums[0] = in.readUInt64();
        case 2 -> strs[0] = in.readString();
        case 3 -> nums[1] = in.readInt64();
        case 4 -> strs[1] = in.readString();
        default -> {
          return false;
        }
      }
      return true;
    });
    try {
      return new VolumeRecord(new VolumeId(nums[0]), strs[0], Instant.ofEpochMilli(nums[1]), strs[1]);
    } catch (IllegalArgumentException e) {
      throw corrupt(key, "volume", e);
    }
  }

  // ---- root

  static byte[] root(VolumeRoot r) {
    return encode(out -> writeRoot(out, r));
  }

  private static void writeRoot(CodedOutputStream out, VolumeRoot r) throws IOException {
    out.writeUInt64(1, r.size());
    out.writeUInt32(2, r.levels());
    if (r.page() != null) {
      out.writeByteArray(3, r.page().toBytes());
      out.writeFixed32(4, r.pageCrc());
    }
    if (r.session() != 0) {
      out.writeUInt64(5, r.session());
      out.writeUInt64(6, r.highWater());
    }
  }

  static VolumeRoot root(String key, byte[] value) {
    long[] longs = {0, 0, 0};
    int[] ints = {1, 0};
    byte[][] page = {null};
    decode(key, "root", value, (f, in) -> {
      switch (f) {
        case 1 -> longs[0] = in.readUInt64();
        case 5 -> longs[1] = in.readUInt64();
        case 6 -> longs[2] = in.readUInt64();
        case 2 -> ints[0] = in.readUInt32();
        case 3 -> page[0] = in.readByteArray();
        case 4 -> ints[1] = in.readFixed32();
        default -> {
          return false;
        }
      }
      return true;
    });
    try {
      return new VolumeRoot(longs[0], ints[0], page[0] == null ? null : BlockRef.fromBytes(page[0]),
          ints[1], longs[1], longs[2]);
    } catch (IllegalArgumentException e) {
      throw corrupt(key, "root", e);
    }
  }

  // ---- lock

  /** A lock record; the lease is also on the key itself. */
  record LockRecord(LockInfo info, long leaseId) {}

  static byte[] lock(LockRecord l) {
    return encode(out -> {
      out.writeString(1, l.info().owner());
      out.writeUInt64(2, l.info().session());
      out.writeInt64(3, l.leaseId());
      out.writeInt64(4, l.info().acquired().toEpochMilli());
    });
  }

  static LockRecord lock(String key, byte[] value) {
    String[] owner = {""};
    long[] nums = {0, 0, 0};
    decode(key, "lock", value, (f, in) -> {
      switch (f) {
        case 1 -> owner[0] = in.readString();
        case 2 -> nums[0] = in.readUInt64();
        case 3 -> nums[1] = in.readInt64();
        case 4 -> nums[2] = in.readInt64();
        default -> {
          return false;
        }
      }
      return true;
    });
    return new LockRecord(new LockInfo(owner[0], nums[0], Instant.ofEpochMilli(nums[2])), nums[1]);
  }

  // ---- snapshot

  static byte[] snapshot(SnapshotInfo s) {
    return encode(out -> {
      out.writeString(1, s.name());
      out.writeInt64(2, s.created().toEpochMilli());
      out.writeByteArray(3, root(s.root()));
    });
  }

  static SnapshotInfo snapshot(String key, VolumeId volume, byte[] value) {
    String[] name = {""};
    long[] created = {0};
    byte[][] root = {null};
    decode(key, "snapshot", value, (f, in) -> {
      switch (f) {
        case 1 -> name[0] = in.readString();
        case 2 -> created[0] = in.readInt64();
        case 3 -> root[0] = in.readByteArray();
        default -> {
          return false;
        }
      }
      return true;
    });
    if (root[0] == null) {
      throw corrupt(key, "snapshot", new IllegalArgumentException("no root"));
    }
    return new SnapshotInfo(volume, name[0], Instant.ofEpochMilli(created[0]), root(key, root[0]));
  }

  // ---- ring

  static byte[] ring(Ring ring) {
    return encode(out -> {
      out.writeUInt32(1, ring.type().code());
      out.writeUInt64(2, ring.version());
      out.writeUInt32(3, ring.replication());
      for (RingMember m : ring.members()) {
        out.writeByteArray(4, encode(mo -> {
          mo.writeString(1, m.peer().uuid());
          mo.writeUInt64(2, m.capacityBlocks());
        }));
      }
    });
  }

  static Ring ring(String key, byte[] value) {
    int[] ints = {0, 1};
    long[] version = {1};
    List<RingMember> members = new ArrayList<>();
    decode(key, "ring", value, (f, in) -> {
      switch (f) {
        case 1 -> ints[0] = in.readUInt32();
        case 2 -> version[0] = in.readUInt64();
        case 3 -> ints[1] = in.readUInt32();
        case 4 -> members.add(ringMember(key, in.readByteArray()));
        default -> {
          return false;
        }
      }
      return true;
    });
    try {
      return Rings.of(RingType.fromCode(ints[0]), version[0], Math.max(1, ints[1]), members);
    } catch (IllegalArgumentException | TorusException e) {
      throw corrupt(key, "ring", e);
    }
  }

  private static RingMember ringMember(String key, byte[] value) {
    String[] uuid = {""};
    long[] capacity = {0};
    decode(key, "ring member", value, (f, in) -> {
      switch (f) {
        case 1 -> uuid[0] = in.readString();
        case 2 -> capacity[0] = in.readUInt64();
        default -> {
          return false;
        }
      }
      return true;
    });
    return new RingMember(new PeerId(uuid[0]), capacity[0]);
  }

  // ---- peer

  static byte[] peer(PeerInfo p) {
    return encode(out -> {
      out.writeString(1, p.id().uuid());
      out.writeString(2, p.address());
      out.writeInt64(3, p.lastSeen().toEpochMilli());
      out.writeUInt64(4, p.capacityBlocks());
      out.writeUInt64(5, p.usedBlocks());
      out.writeUInt32(6, p.protocolVersion());
      out.writeBool(7, p.rebalancing());
    });
  }

  static PeerInfo peer(String key, byte[] value) {
    String[] strs = {"", ""};
    long[] nums = {0, 0, 0};
    int[] proto = {0};
    boolean[] rebalancing = {false};
    decode(key, "peer", value, (f, in) -> {
      switch (f) {
        case 1 -> strs[0] = in.readString();
        case 2 -> strs[1] = in.readString();
        case 3 -> nums[0] = in.readInt64();
        case 4 -> nums[1] = in.readUInt64();
        case 5 -> nums[2] = in.readUInt64();
        case 6 -> proto[0] = in.readUInt32();
        case 7 -> rebalancing[0] = in.readBool();
        default -> {
          return false;
        }
      }
      return true;
    });
    try {
      return new PeerInfo(new PeerId(strs[0]), strs[1], Instant.ofEpochMilli(nums[0]), nums[1],
          nums[2], proto[0], rebalancing[0]);
    } catch (IllegalArgumentException e) {
      throw corrupt(key, "peer", e);
    }
  }
}
