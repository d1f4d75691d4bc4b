package dev.torus.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.BlockRef;
import dev.torus.BlockType;
import dev.torus.INodeRef;
import dev.torus.VolumeId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class IndexLogTest {
  @TempDir Path dir;

  private static final BlockRef A = BlockRef.of(new INodeRef(new VolumeId(0xFF_FFFF_FFFFL), 7), 9,
      BlockType.MAP);
  private static final BlockRef B = BlockRef.of(new INodeRef(new VolumeId(1), 1), 0, BlockType.DATA);

  @Test
  void recordsReadBackInOrderAndTheEndIsClean() throws IOException {
    try (IndexLog log = IndexLog.create(dir, 5)) {
      log.appendPut(10, A, 3, 0xCAFEBABE);
      log.appendDelete(11, B);
      log.appendFlush(12, 10);
      assertThat(log.size()).isEqualTo(IndexLog.HEADER_BYTES + IndexLog.PUT_BYTES
          + IndexLog.DELETE_BYTES + IndexLog.FLUSH_BYTES);
    }
    assertThat(Files.size(StoreFiles.log(dir, 5))).as("preallocated")
        .isEqualTo(IndexLog.HEADER_BYTES + IndexLog.EXTEND_BYTES);
    byte[] file = Files.readAllBytes(StoreFiles.log(dir, 5));
    int refAt = IndexLog.HEADER_BYTES + 13;
    assertThat(Arrays.copyOfRange(file, refAt, refAt + BlockRef.BYTES)).as("the ref's wire form")
        .isEqualTo(A.toBytes());
    assertThat(read(5, 0)).containsExactly("PUT 10 " + A + " 3 cafebabe", "DELETE 11 " + B,
        "FLUSH 12 10", "clean");
    assertThat(read(5, 10)).as("a record at or below afterSeq ends the log").containsExactly(
        "torn");
  }

  @Test
  void aFragmentLeftByAFailedAppendIsIgnored() throws IOException {
    long fragmentAt;
    try (IndexLog log = IndexLog.create(dir, 1)) {
      log.appendPut(1, A, 0, 1);
      fragmentAt = log.size();
      log.appendPut(2, A, 1, 2);
      log.appendPut(3, B, 2, 3);
    }
    // A whole record with an older sequence number after the end, as after a failed batch.
    Path file = StoreFiles.log(dir, 1);
    byte[] stale = new byte[IndexLog.PUT_BYTES];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.read(ByteBuffer.wrap(stale), fragmentAt);
      ch.write(ByteBuffer.wrap(stale), fragmentAt + 2L * IndexLog.PUT_BYTES);
    }
    assertThat(read(1, 0)).containsExactly("PUT 1 " + A + " 0 00000001",
        "PUT 2 " + A + " 1 00000002", "PUT 3 " + B + " 2 00000003", "torn");
  }

  @Test
  void everyTruncationReadsBackToAWholeRecord() throws IOException {
    try (IndexLog log = IndexLog.create(dir, 1)) {
      log.appendPut(1, A, 0, 1);
      log.appendDelete(2, A);
      log.appendFlush(3, 2);
    }
    Path file = StoreFiles.log(dir, 1);
    byte[] full = Files.readAllBytes(file);
    int[] ends = {IndexLog.HEADER_BYTES, IndexLog.HEADER_BYTES + IndexLog.PUT_BYTES,
        IndexLog.HEADER_BYTES + IndexLog.PUT_BYTES + IndexLog.DELETE_BYTES};
    for (int size = IndexLog.HEADER_BYTES; size < ends[2] + IndexLog.FLUSH_BYTES; size++) {
      Files.write(file, Arrays.copyOf(full, size));
      int whole = size >= ends[2] ? 2 : size >= ends[1] ? 1 : 0;
      List<String> records = read(1, 0);
      assertThat(records).as("size %d", size).hasSize(whole + 1);
      // A fragment is told apart from the writer's zero preallocation by any non-zero byte.
      boolean zeros = true;
      for (int i = new int[] {ends[0], ends[1], ends[2]}[whole]; i < size; i++) {
        zeros &= full[i] == 0;
      }
      assertThat(records.get(whole)).as("size %d", size).isEqualTo(zeros ? "clean" : "torn");
    }
  }

  private List<String> read(long generation, long afterSeq) throws IOException {
    List<String> out = new ArrayList<>();
    try (IndexLogReader r = IndexLogReader.open(StoreFiles.log(dir, generation), generation,
        afterSeq)) {
      while (r.next()) {
        out.add(switch (r.type()) {
          case IndexLog.PUT -> String.format("PUT %d %s %d %08x", r.seq(), r.ref(), r.slot(),
              r.blockCrc());
          case IndexLog.DELETE -> "DELETE " + r.seq() + " " + r.ref();
          default -> "FLUSH " + r.seq() + " " + r.coveredSeq();
        });
      }
      out.add(r.endsCleanly() ? "clean" : "torn");
    }
    return out;
  }
}
