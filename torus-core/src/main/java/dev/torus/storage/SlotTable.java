package dev.torus.storage;

import dev.torus.BlockRef;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A file store's {@link SlotIndex} and {@link SlotAllocator} behind one read-write lock. Lookups
 * share the read lock; changes take the write lock for a few array operations. No I/O is done under
 * either, so readers never wait for the disk here. Thread-safe.
 */
final class SlotTable {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final SlotIndex index;
  private final SlotAllocator allocator;
  // A copy of allocator.reuses() that readers check without taking the lock.
  private volatile long reuses;

  SlotTable(SlotIndex index, SlotAllocator allocator) {
    this.index = index;
    this.allocator = allocator;
  }

  /** The packed slot and CRC of a ref (see {@link SlotIndex#pack}), or {@link SlotIndex#ABSENT}. */
  long lookup(BlockRef ref) {
    lock.readLock().lock();
    try {
      return index.get(ref.volumeWord(), ref.inode(), ref.index());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** How many times a used slot was handed out again; see {@link SlotAllocator#reuses}. */
  long reuses() {
    return reuses;
  }

  /** A free slot for a put, or -1 if no more than {@code keepFree} are free now. */
  int allocate(int keepFree) {
    lock.writeLock().lock();
    try {
      int slot = allocator.allocate(keepFree);
      reuses = allocator.reuses();
      return slot;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Takes back a slot from {@link #allocate} whose put failed before it was logged. */
  void release(int slot) {
    lock.writeLock().lock();
    try {
      allocator.release(slot);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Maps a ref to a written slot; the slot it held before becomes pending. */
  void publish(BlockRef ref, int slot, int crc) {
    lock.writeLock().lock();
    try {
      long previous = index.put(ref.volumeWord(), ref.inode(), ref.index(),
          SlotIndex.pack(slot, crc));
      if (previous != SlotIndex.ABSENT) {
        allocator.retire(SlotIndex.slot(previous));
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Unmaps a ref; its slot becomes pending. Returns whether the ref was present. */
  boolean remove(BlockRef ref) {
    lock.writeLock().lock();
    try {
      long previous = index.remove(ref.volumeWord(), ref.inode(), ref.index());
      if (previous == SlotIndex.ABSENT) {
        return false;
      }
      allocator.retire(SlotIndex.slot(previous));
      return true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** See {@link SlotAllocator#takePending}. */
  IntStack takePending() {
    lock.writeLock().lock();
    try {
      return allocator.takePending();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** See {@link SlotAllocator#free}. */
  void free(IntStack slots) {
    lock.writeLock().lock();
    try {
      allocator.free(slots);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** See {@link SlotAllocator#restorePending}. */
  void restorePending(IntStack slots) {
    lock.writeLock().lock();
    try {
      allocator.restorePending(slots);
    } finally {
      lock.writeLock().unlock();
    }
  }

  int size() {
    lock.readLock().lock();
    try {
      return index.size();
    } finally {
      lock.readLock().unlock();
    }
  }

  int capacity() {
    return allocator.capacity();
  }

  /** The stored refs, in no particular order. */
  List<BlockRef> refs() {
    lock.readLock().lock();
    try {
      List<BlockRef> refs = new ArrayList<>(index.size());
      index.forEach((w, inode, i, slot, crc) -> refs.add(BlockRef.fromParts(w, inode, i)));
      return refs;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Every entry in checkpoint form ({@link SlotIndex#ENTRY_BYTES} each), ready to write, in chunks
   * of at most {@code chunkBytes}, so that no single buffer nears the 2 GiB limit of a buffer.
   */
  List<ByteBuffer> snapshot(int chunkBytes) {
    int perChunk = Math.max(1, chunkBytes / SlotIndex.ENTRY_BYTES);
    lock.readLock().lock();
    try {
      List<ByteBuffer> chunks = new ArrayList<>();
      for (int left = index.size(); left > 0; left -= perChunk) {
        int bytes = Math.min(perChunk, left) * SlotIndex.ENTRY_BYTES;
        chunks.add(ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN));
      }
      int[] current = {0};
      index.forEach((w, inode, i, slot, crc) -> {
        ByteBuffer chunk = chunks.get(current[0]);
        if (!chunk.hasRemaining()) {
          chunk = chunks.get(++current[0]);
        }
        chunk.putLong(w).putLong(inode).putLong(i).putInt(slot).putInt(crc);
      });
      chunks.forEach(ByteBuffer::flip);
      return chunks;
    } finally {
      lock.readLock().unlock();
    }
  }
}
