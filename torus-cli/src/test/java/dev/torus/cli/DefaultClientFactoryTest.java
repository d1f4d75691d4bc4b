package dev.torus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Locks name the program that took them, not whichever program shares the client setup. */
final class DefaultClientFactoryTest {
  @Test
  void locksNameTheRunningProgram() {
    long pid = ProcessHandle.current().pid();

    assertThat(new DefaultClientFactory("torusblk").owner())
        .startsWith("torusblk@").endsWith(":" + pid);
    assertThat(new DefaultClientFactory("torusctl").owner())
        .startsWith("torusctl@").endsWith(":" + pid);
  }
}
