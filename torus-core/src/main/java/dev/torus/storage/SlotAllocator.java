package dev.torus.storage;

import dev.torus.TorusExceptions;
import java.util.BitSet;

/**
 * Hands out data-file slots and takes them back.
 *
 * <p>Slots at or above the high-water mark have never held a block; below it, a slot is either in
 * the index, free, being written by a put, or pending. A slot that a delete or a newer put of the
 * same ref gave up is <em>pending</em> until a flush has made that change durable: before then,
 * recovery may still find a durable record pointing at it, so its bytes must stay. Only {@link
 * #free} makes pending slots free. Memory follows use: nothing is kept per slot above the
 * high-water mark.
 *
 * <p>Free slots are handed out in file order, each search starting after the slot handed out
 * last and wrapping around at the end (next fit). So a stream of puts, such as a volume's
 * sequential writes, lands in ascending, mostly adjacent slots even when earlier random writes
 * left the free slots scattered. Handing out the slot freed most recently first, as a stack does,
 * spread such a stream over the whole file, and 1 MiB writes to a durable volume after 4 KiB
 * random ones ran about 30% slower (docs/benchmarks.md). Not thread-safe: {@link SlotTable} guards
 * it.
 */
final class SlotAllocator {
  private final BitSet free;
  private int freeCount;
  /** Where the search for a free slot starts: just after the last one handed out. */
  private int cursor;
  private IntStack pending = new IntStack();
  private final int capacity;
  private int highWater;
  private long reuses;

  private SlotAllocator(int capacity, int highWater, BitSet free) {
    this.capacity = capacity;
    this.highWater = highWater;
    this.free = free;
    this.freeCount = free.cardinality();
  }

  /**
   * The allocator for a recovered index: every slot below the highest one in use that the index
   * does not name is free. Fails with {@code CORRUPTED} if the index names a slot twice or one
   * beyond {@code capacity}; {@code where} names the index for the message.
   */
  static SlotAllocator rebuild(int capacity, SlotIndex index, String where) {
    int[] highest = {-1};
    index.forEach((w, inode, i, slot, crc) -> highest[0] = Math.max(highest[0], slot));
    int highWater = highest[0] + 1;
    if (highWater > capacity) {
      throw TorusExceptions.corrupted(where + " names slot " + highest[0] + " beyond the capacity of "
          + capacity + " blocks");
    }
    BitSet free = new BitSet(highWater);
    free.set(0, highWater);
    index.forEach((w, inode, i, slot, crc) -> {
      if (slot < 0 || !free.get(slot)) {
        throw TorusExceptions.corrupted(where + " maps two blocks to slot " + slot);
      }
      free.clear(slot);
    });
    return new SlotAllocator(capacity, highWater, free);
  }

  /** A free slot, or -1 if no more than {@code keepFree} slots are free (in use or pending). */
  int allocate(int keepFree) {
    if (freeCount + (capacity - highWater) <= keepFree) {
      return -1;
    }
    if (freeCount > 0) {
      int slot = free.nextSetBit(cursor);
      if (slot < 0) {
        slot = free.nextSetBit(0);
      }
      free.clear(slot);
      freeCount--;
      cursor = slot + 1;
      reuses++;
      return slot;
    }
    return highWater < capacity ? highWater++ : -1;
  }

  /** Takes back a slot from {@link #allocate} that no record names (its put failed). */
  void release(int slot) {
    free.set(slot);
    freeCount++;
  }

  /** Takes back a slot that a logged delete or overwrite gave up; see the class comment. */
  void retire(int slot) {
    pending.push(slot);
  }

  /** The pending slots, which the caller's flush is about to make free; they are no longer here. */
  IntStack takePending() {
    IntStack taken = pending;
    pending = new IntStack();
    return taken;
  }

  /**
   * Makes slots from {@link #takePending} allocatable, emptying {@code slots}: the flush that
   * covers them completed.
   */
  void free(IntStack slots) {
    while (!slots.isEmpty()) {
      free.set(slots.pop());
      freeCount++;
    }
  }

  /** Returns slots from {@link #takePending} after the flush meant to cover them failed. */
  void restorePending(IntStack slots) {
    pending.pushAll(slots);
  }

  /**
   * How many times a slot that held a block was handed out again. A reader that sees this change
   * while it reads may have read a slot that was overwritten under it.
   */
  long reuses() {
    return reuses;
  }

  int capacity() {
    return capacity;
  }
}
