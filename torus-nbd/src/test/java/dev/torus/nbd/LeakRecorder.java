package dev.torus.nbd;

import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;

/**
 * Netty's leak detector, remembering what it reports so that tests can fail on leaks instead of
 * only logging them. Installed with {@code -Dio.netty.customResourceLeakDetector} (see this
 * module's pom); {@link NoLeaks} checks it after every test.
 */
public final class LeakRecorder<T> extends ResourceLeakDetector<T> {
  private static final List<String> leaks = new ArrayList<>();
  private static volatile boolean installed;

  public LeakRecorder(Class<?> resourceType, int samplingInterval, long maxActive) {
    this(resourceType, samplingInterval);
  }

  public LeakRecorder(Class<?> resourceType, int samplingInterval) {
    super(resourceType, samplingInterval);
    installed = true;
  }

  /** Whether Netty created this detector (the system property is set). */
  static boolean installed() {
    return installed;
  }

  /** The leaks reported since the last call. */
  static List<String> drain() {
    synchronized (leaks) {
      List<String> copy = new ArrayList<>(leaks);
      leaks.clear();
      return copy;
    }
  }

  @Override
  protected void reportTracedLeak(String resourceType, String records) {
    record(resourceType + " leaked:" + records);
    super.reportTracedLeak(resourceType, records);
  }

  @Override
  protected void reportUntracedLeak(String resourceType) {
    record(resourceType + " leaked (no records)");
    super.reportUntracedLeak(resourceType);
  }

  private static void record(String leak) {
    synchronized (leaks) {
      leaks.add(leak);
    }
  }
}
