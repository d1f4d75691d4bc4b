package dev.torus.nbd;

import static dev.torus.nbd.NbdKernelDevice.NBD_CLEAR_SOCK;
import static dev.torus.nbd.NbdKernelDevice.NBD_DISCONNECT;
import static dev.torus.nbd.NbdKernelDevice.NBD_DO_IT;
import static dev.torus.nbd.NbdKernelDevice.NBD_SET_BLKSIZE;
import static dev.torus.nbd.NbdKernelDevice.NBD_SET_FLAGS;
import static dev.torus.nbd.NbdKernelDevice.NBD_SET_SIZE;
import static dev.torus.nbd.NbdKernelDevice.NBD_SET_SOCK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.volume.ModelBlockDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The kernel attach sequence, driven against a fake kernel. */
final class NbdKernelDeviceTest {
  private static final int ETIMEDOUT = 110;

  private final FakeKernel kernel = new FakeKernel();
  private final FakeServer server = new FakeServer();
  private final ModelBlockDevice device = new ModelBlockDevice(1 << 20, 4096);

  private NbdKernelDevice attach(@Nullable Path path) {
    return NbdKernelDevice.attach(device, path, kernel, () -> server);
  }

  @Test
  void attachRunsTheNbdClientSequenceAndServesTheOtherEnd() throws Exception {
    kernel.existing.add("/dev/nbd0");

    NbdKernelDevice attached = attach(null);
    kernel.doItEntered.await(5, TimeUnit.SECONDS);

    assertThat(attached.path()).isEqualTo(Path.of("/dev/nbd0"));
    assertThat(kernel.calls).containsExactly(
        "open /dev/nbd0 = 10",
        "socketpair = 11 12",
        "ioctl 10 SET_BLKSIZE 4096",
        "ioctl 10 SET_SIZE 1048576",
        "ioctl 10 SET_FLAGS " + (NbdProtocol.NBD_FLAG_HAS_FLAGS | NbdProtocol.NBD_FLAG_SEND_FLUSH
            | NbdProtocol.NBD_FLAG_SEND_FUA | NbdProtocol.NBD_FLAG_SEND_TRIM
            | NbdProtocol.NBD_FLAG_SEND_WRITE_ZEROES | NbdProtocol.NBD_FLAG_SEND_FAST_ZERO
            | NbdProtocol.NBD_FLAG_SEND_CACHE),
        "ioctl 10 SET_SOCK 11",
        "ioctl 10 DO_IT 0");
    assertThat(server.fd).isEqualTo(12);
    assertThat(server.export.style()).isEqualTo(ReplyStyle.SIMPLE);
    assertThat(server.export.device()).isSameAs(device);
    assertThat(attached.disconnected()).isNotDone();
  }

  @Test
  void closeDisconnectsWaitsForTheKernelAndReleasesEverything() {
    kernel.existing.add("/dev/nbd0");
    NbdKernelDevice attached = attach(null);

    attached.close();

    assertThat(attached.disconnected()).isCompleted();
    assertThat(kernel.calls).contains("ioctl 10 DISCONNECT 0").endsWith(
        "ioctl 10 CLEAR_SOCK 0", "close 11", "close 10");
    assertThat(kernel.openFds).containsExactly(12); // the served end belongs to the server
    assertThat(server.closed).isTrue();
    assertThat(device.isClosed()).isFalse(); // the caller owns the device
    attached.close();
    assertThat(kernel.calls).filteredOn(c -> c.contains("DISCONNECT")).hasSize(1);
  }

  @Test
  void readOnlyDevicesAreAttachedReadOnlyWithoutTrim() {
    kernel.existing.add("/dev/nbd3");
    ModelBlockDevice ro = new ModelBlockDevice(1 << 20, 4096, true, Runnable::run);

    NbdKernelDevice.attach(ro, Path.of("/dev/nbd3"), kernel, () -> server).close();

    int flags = server.export.flags();
    assertThat(flags & NbdProtocol.NBD_FLAG_READ_ONLY).isNotZero();
    assertThat(flags & NbdProtocol.NBD_FLAG_SEND_TRIM).isZero();
  }

  @Test
  void aKernelWithoutNbdGetsAClearErrorPointingToTheUserspaceWay() {
    assertThatThrownBy(() -> attach(null))
        .isInstanceOfSatisfying(TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.NOT_SUPPORTED);
          assertThat(e.getMessage()).contains("no NBD support", "modprobe nbd",
              "torusblk nbdserve");
        });
    assertThatThrownBy(() -> attach(Path.of("/dev/nbd0")))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_SUPPORTED));
    assertThat(kernel.calls).isEmpty();
  }

  @Test
  void aMissingDeviceOnAKernelWithNbdIsNotFound() {
    kernel.existing.add("/dev/nbd0");

    assertThatThrownBy(() -> attach(Path.of("/dev/nbd9")))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
  }

  @Test
  void picksTheFirstDeviceNoProcessServes() {
    kernel.existing.addAll(List.of("/dev/nbd0", "/sys/block/nbd0/pid", "/dev/nbd1"));

    assertThat(attach(null).path()).isEqualTo(Path.of("/dev/nbd1"));

    kernel.existing.add("/sys/block/nbd1/pid");
    assertThatThrownBy(() -> attach(null))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCKED));
  }

  @Test
  void aBusyDeviceFailsAndLeavesNothingOpen() {
    kernel.existing.add("/dev/nbd0");
    kernel.failures.put(NBD_SET_SOCK, NbdSyscalls.EBUSY);

    assertThatThrownBy(() -> attach(null))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCKED));
    assertThat(kernel.openFds).isEmpty();
    assertThat(kernel.calls).contains("ioctl 10 CLEAR_SOCK 0").doesNotContain("ioctl 10 DO_IT 0");
    assertThat(server.fd).isEqualTo(-1);
  }

  @Test
  void missingPrivilegesSaySo() {
    kernel.existing.add("/dev/nbd0");
    kernel.openErrno = NbdSyscalls.EACCES;

    assertThatThrownBy(() -> attach(null))
        .isInstanceOfSatisfying(TorusException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
          assertThat(e.getMessage()).contains("needs root");
        });
  }

  @Test
  void aDisconnectFromOutsideCompletesAndCloseThenLeavesTheFdAlone() throws Exception {
    kernel.existing.add("/dev/nbd0");
    NbdKernelDevice attached = attach(null);
    kernel.doItEntered.await(5, TimeUnit.SECONDS);

    kernel.doItExit.countDown(); // nbd-client -d from another process
    attached.disconnected().get(5, TimeUnit.SECONDS);
    attached.close();

    assertThat(kernel.calls).doesNotContain("ioctl 10 DISCONNECT 0");
  }

  @Test
  void aFailingDoItFailsDisconnected() {
    kernel.existing.add("/dev/nbd0");
    kernel.doItErrno = ETIMEDOUT;

    NbdKernelDevice attached = attach(null);

    assertThat(attached.disconnected()).failsWithin(5, TimeUnit.SECONDS);
  }

  @Test
  void detachDisconnectsAndClearsTheSocket() {
    kernel.existing.add("/dev/nbd2");

    NbdKernelDevice.detach(Path.of("/dev/nbd2"), kernel);

    assertThat(kernel.calls).containsExactly("open /dev/nbd2 = 10",
        "ioctl 10 DISCONNECT 0", "ioctl 10 CLEAR_SOCK 0", "close 10");
  }

  @Test
  void thisMachinesKernelIsReportedAsWithoutNbd() {
    assumeFalse(Files.exists(Path.of("/dev/nbd0")), "this kernel has NBD; attach is a manual test");

    assertThatThrownBy(() -> NbdKernelDevice.attach(device, null))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_SUPPORTED));
    assertThatThrownBy(() -> NbdKernelDevice.checkAvailable(null))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_SUPPORTED));
  }

  @Test
  void theDeviceCheckAnswersAsAttachWouldWithoutOpeningAnything() {
    assertThatThrownBy(() -> NbdKernelDevice.device(null, kernel))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_SUPPORTED));
    kernel.existing.addAll(List.of("/dev/nbd0", "/sys/block/nbd0/pid", "/dev/nbd1"));
    assertThat(NbdKernelDevice.device(null, kernel)).isEqualTo(Path.of("/dev/nbd1"));
    assertThatThrownBy(() -> NbdKernelDevice.device(Path.of("/dev/nbd7"), kernel))
        .isInstanceOfSatisfying(TorusException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    assertThat(kernel.calls).isEmpty();
  }

  /** Records calls; DO_IT blocks until DISCONNECT (or a test) lets it return. */
  static final class FakeKernel implements NbdSyscalls {
    final Set<String> existing = new HashSet<>();
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final Set<Integer> openFds = new HashSet<>();
    final Map<Integer, Integer> failures = new HashMap<>();
    final CountDownLatch doItEntered = new CountDownLatch(1);
    final CountDownLatch doItExit = new CountDownLatch(1);
    int openErrno;
    int doItErrno;
    private int nextFd = 10;

    @Override
    public boolean exists(String path) {
      return existing.contains(path);
    }

    @Override
    public synchronized int open(String path) throws SyscallException {
      if (openErrno != 0) {
        throw new SyscallException("open", openErrno, "fake");
      }
      int fd = nextFd++;
      openFds.add(fd);
      calls.add("open " + path + " = " + fd);
      return fd;
    }

    @Override
    public synchronized int[] socketPair() {
      int[] pair = {nextFd++, nextFd++};
      openFds.add(pair[0]);
      openFds.add(pair[1]);
      calls.add("socketpair = " + pair[0] + " " + pair[1]);
      return pair;
    }

    @Override
    public void ioctl(int fd, int request, long arg) throws SyscallException {
      synchronized (this) {
        calls.add("ioctl " + fd + " " + name(request) + " " + arg);
        Integer errno = failures.get(request);
        if (errno != null) {
          throw new SyscallException("ioctl", errno, "fake");
        }
        if (request == NBD_DISCONNECT) {
          doItExit.countDown();
        }
      }
      if (request == NBD_DO_IT) {
        doItEntered.countDown();
        if (doItErrno != 0) {
          throw new SyscallException("ioctl", doItErrno, "fake");
        }
        try {
          doItExit.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public synchronized void close(int fd) {
      openFds.remove(fd);
      calls.add("close " + fd);
    }

    private static String name(int request) {
      return switch (request) {
        case NBD_SET_SOCK -> "SET_SOCK";
        case NBD_SET_BLKSIZE -> "SET_BLKSIZE";
        case NBD_SET_SIZE -> "SET_SIZE";
        case NBD_DO_IT -> "DO_IT";
        case NBD_CLEAR_SOCK -> "CLEAR_SOCK";
        case NBD_DISCONNECT -> "DISCONNECT";
        case NBD_SET_FLAGS -> "SET_FLAGS";
        default -> Integer.toHexString(request);
      };
    }
  }

  /** Remembers what it was asked to serve. */
  static final class FakeServer implements KernelSocketServer {
    volatile int fd = -1;
    volatile Export export;
    volatile boolean closed;

    @Override
    public void serve(int fd, Export export) {
      this.fd = fd;
      this.export = export;
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
