package dev.torus.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaked a {@code ByteBuf}: after each test it collects garbage until Netty's
 * leak detector (paranoid: every buffer tracked) has reported what was dropped unreleased.
 */
public final class LeakCheck implements BeforeEachCallback, AfterEachCallback {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ByteBufUtil.setLeakListener((type, records) -> LEAKS.add(type + " leaked:\n" + records));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    collect();
    LEAKS.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    collect();
    List<String> found = new ArrayList<>(LEAKS);
    LEAKS.clear();
    assertThat(found).as("leaked buffers").isEmpty();
  }

  /** Runs the collector and lets the detector report; it reports when a buffer is allocated. */
  private static void collect() {
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      // Unpooled heap buffers are not tracked; a pooled one makes the detector report.
      ByteBufAllocator.DEFAULT.buffer(1).release();
    }
  }
}
