package dev.torus.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import org.junit.jupiter.api.Test;

final class SlotAllocatorTest {
  @Test
  void retiredSlotsAreReusedOnlyAfterTheirFlush() {
    SlotAllocator allocator = SlotAllocator.rebuild(3, new SlotIndex(0), "test");
    assertThat(allocator.allocate(0)).isZero();
    assertThat(allocator.allocate(0)).isEqualTo(1);
    assertThat(allocator.allocate(0)).isEqualTo(2);
    allocator.retire(1);
    assertThat(allocator.allocate(0)).as("pending, not free").isEqualTo(-1);

    IntStack flushing = allocator.takePending();
    allocator.retire(0); // freed while that flush runs: not covered by it
    allocator.free(flushing);
    assertThat(allocator.allocate(0)).isEqualTo(1);
    assertThat(allocator.reuses()).isEqualTo(1);
    assertThat(allocator.allocate(0)).isEqualTo(-1);
    assertThat(allocator.takePending().size()).as("the slot freed during the flush").isEqualTo(1);
  }

  @Test
  void aFailedFlushPutsItsSlotsBackToPending() {
    SlotAllocator allocator = SlotAllocator.rebuild(1, new SlotIndex(0), "test");
    allocator.retire(allocator.allocate(0));
    IntStack flushing = allocator.takePending();
    allocator.restorePending(flushing);
    assertThat(allocator.allocate(0)).isEqualTo(-1);
    allocator.free(allocator.takePending());
    assertThat(allocator.allocate(0)).isZero();
  }

  @Test
  void aReleasedSlotIsFreeAtOnce() {
    SlotAllocator allocator = SlotAllocator.rebuild(1, new SlotIndex(0), "test");
    int slot = allocator.allocate(0);
    allocator.release(slot);
    assertThat(allocator.allocate(0)).isEqualTo(slot);
  }

  @Test
  void freeSlotsAreHandedOutInFileOrderFromAfterTheLastOne() {
    SlotAllocator allocator = SlotAllocator.rebuild(20, new SlotIndex(0), "test");
    for (int slot = 0; slot < 12; slot++) {
      assertThat(allocator.allocate(0)).isEqualTo(slot);
    }
    for (int slot : new int[] {9, 2, 7, 5}) { // freed in the order random writes replace blocks
      allocator.retire(slot);
    }
    allocator.free(allocator.takePending());
    assertThat(new int[] {allocator.allocate(0), allocator.allocate(0)})
        .as("ascending, from the start once past the end").containsExactly(2, 5);

    allocator.release(3); // behind the search
    allocator.release(11);
    assertThat(new int[] {allocator.allocate(0), allocator.allocate(0), allocator.allocate(0),
        allocator.allocate(0), allocator.allocate(0)})
        .as("on from slot 6, round to 3, then never-used slots").containsExactly(7, 9, 11, 3, 12);
  }

  @Test
  void theLastFreeSlotsAreKeptForWhatMayUseThem() {
    SlotAllocator allocator = SlotAllocator.rebuild(4, new SlotIndex(0), "test");
    for (int slot = 0; slot < 4; slot++) {
      allocator.allocate(0);
    }
    allocator.retire(1);
    allocator.retire(3);
    allocator.free(allocator.takePending());

    assertThat(allocator.allocate(1)).isEqualTo(1);
    assertThat(allocator.allocate(1)).as("one free slot, kept").isEqualTo(-1);
    assertThat(allocator.allocate(0)).isEqualTo(3);
    assertThat(allocator.allocate(0)).isEqualTo(-1);
  }

  @Test
  void rebuildFreesTheGapsBelowTheHighestUsedSlotLowestFirst() {
    SlotIndex index = new SlotIndex(0);
    index.put(1, 1, 0, SlotIndex.pack(5, 0));
    index.put(1, 1, 1, SlotIndex.pack(2, 0));
    SlotAllocator allocator = SlotAllocator.rebuild(10, index, "test");
    assertThat(new int[] {allocator.allocate(0), allocator.allocate(0), allocator.allocate(0),
        allocator.allocate(0), allocator.allocate(0)}).containsExactly(0, 1, 3, 4, 6);
  }

  @Test
  void rebuildRejectsADoubleUsedSlotOrOneBeyondCapacity() {
    SlotIndex twice = new SlotIndex(0);
    twice.put(1, 1, 0, SlotIndex.pack(3, 0));
    twice.put(1, 1, 1, SlotIndex.pack(3, 0));
    assertThatThrownBy(() -> SlotAllocator.rebuild(10, twice, "the index"))
        .isInstanceOf(TorusException.class)
        .hasMessageContaining("two blocks to slot 3")
        .satisfies(e -> assertThat(((TorusException) e).code()).isEqualTo(ErrorCode.CORRUPTED));

    SlotIndex beyond = new SlotIndex(0);
    beyond.put(1, 1, 0, SlotIndex.pack(10, 0));
    assertThatThrownBy(() -> SlotAllocator.rebuild(10, beyond, "the index"))
        .hasMessageContaining("beyond the capacity");
  }
}
