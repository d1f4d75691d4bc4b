package dev.torus.nbd;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty detected a leaked buffer: runs the garbage collector, provokes the
 * detector to look (it reports while tracking new buffers), and checks {@link LeakRecorder}. A
 * leak from work that outlived its test may surface in a later test of the same run; it still
 * fails the build.
 */
public final class NoLeaks implements AfterEachCallback {
  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
      for (ByteBufAllocator a : List.of(UnpooledByteBufAllocator.DEFAULT,
          PooledByteBufAllocator.DEFAULT)) {
        a.heapBuffer(1).release();
        a.directBuffer(1).release();
      }
    }
    if (!LeakRecorder.installed()) {
      throw new AssertionError("leak detection is off: run tests with "
          + "-Dio.netty.customResourceLeakDetector=dev.torus.nbd.LeakRecorder");
    }
    List<String> leaks = LeakRecorder.drain();
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " leaked buffers:\n" + String.join("\n", leaks));
    }
  }
}
