package dev.torus.storage;

import java.util.Arrays;

/** A growable stack of ints: the pending slot lists. Not thread-safe. */
final class IntStack {
  private int[] items = new int[16];
  private int size;

  void push(int value) {
    if (size == items.length) {
      items = Arrays.copyOf(items, items.length + (items.length >> 1) + 1);
    }
    items[size++] = value;
  }

  /** Pushes every item of {@code other}, leaving it unchanged. */
  void pushAll(IntStack other) {
    for (int i = 0; i < other.size; i++) {
      push(other.items[i]);
    }
  }

  int pop() {
    if (size == 0) {
      throw new IllegalStateException("empty");
    }
    return items[--size];
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }
}
