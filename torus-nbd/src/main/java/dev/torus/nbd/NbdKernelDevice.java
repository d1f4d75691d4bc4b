package dev.torus.nbd;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import dev.torus.nbd.NbdSyscalls.SyscallException;
import dev.torus.volume.BlockDevice;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlockDevice} attached to a Linux {@code /dev/nbdX} through the kernel's NBD ioctls, as
 * {@code torusblk nbd VOLUME [/dev/nbdX]} does: the kernel then offers the device as a block
 * device to file systems and applications.
 *
 * <p>Attaching runs the classic sequence of {@code nbd-client}: open the device node, create a
 * Unix socket pair, {@code NBD_SET_BLKSIZE} 4096, {@code NBD_SET_SIZE}, {@code NBD_SET_FLAGS},
 * {@code NBD_SET_SOCK} with one end, then {@code NBD_DO_IT}, which blocks in the kernel for as
 * long as the device is attached, on a thread of its own. The other end of the pair is served in
 * transmission mode with simple replies, the only kind the kernel understands; there is no
 * handshake.
 *
 * <p>{@link #close()} and {@link #detach} ask the kernel to disconnect ({@code NBD_DISCONNECT},
 * then {@code NBD_CLEAR_SOCK}). The caller keeps owning the device and closes it after detaching.
 * Every ioctl needs {@code CAP_SYS_ADMIN}. Kernels without NBD support (no {@code /dev/nbd*}) get
 * a {@code NOT_SUPPORTED} error that points to the userspace alternative.
 *
 * <p>Thread-safe.
 */
public final class NbdKernelDevice implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NbdKernelDevice.class);

  // ioctl requests: _IO(0xab, n).
  static final int NBD_SET_SOCK = 0xab00;
  static final int NBD_SET_BLKSIZE = 0xab01;
  static final int NBD_SET_SIZE = 0xab02;
  static final int NBD_DO_IT = 0xab03;
  static final int NBD_CLEAR_SOCK = 0xab04;
  static final int NBD_DISCONNECT = 0xab08;
  static final int NBD_SET_FLAGS = 0xab0a;

  /** Logical block size given to the kernel: a power of two it accepts (512 to the page size). */
  static final int KERNEL_BLOCK_SIZE = 4096;

  private static final Duration DISCONNECT_WAIT = Duration.ofSeconds(30);

  private final NbdSyscalls sys;
  private final KernelSocketServer server;
  private final Path path;
  private final int fd;
  private final int kernelSocket;
  private final CompletableFuture<Void> disconnected = new CompletableFuture<>();
  /** Guards the file descriptors: once closed their numbers may be reused by anything. */
  private final Object lock = new Object();
  private boolean disconnectRequested;
  private boolean fdsClosed;

  private NbdKernelDevice(
      NbdSyscalls sys, KernelSocketServer server, Path path, int fd, int kernelSocket) {
    this.sys = sys;
    this.server = server;
    this.path = path;
    this.fd = fd;
    this.kernelSocket = kernelSocket;
  }

  /**
   * Attaches {@code device} to {@code nbdDevice}, or to the first free {@code /dev/nbdX} if null,
   * and returns once the kernel serves it.
   *
   * @throws TorusException {@code NOT_SUPPORTED} if the kernel has no NBD support, {@code
   *     NOT_FOUND} if {@code nbdDevice} does not exist, {@code LOCKED} if it or every device is
   *     in use, {@code UNAVAILABLE} for other failures (such as missing root privileges)
   */
  public static NbdKernelDevice attach(BlockDevice device, @Nullable Path nbdDevice) {
    return attach(device, nbdDevice, new LinuxNbdSyscalls(), NbdKernelDevice::epollServer);
  }

  /**
   * Fails as {@link #attach} would before it opens anything: a kernel without NBD support, a
   * missing {@code nbdDevice}, or (with none named) no free device. A caller checks this before it
   * opens the volume, so a machine that cannot attach never takes the volume's write lock. The
   * device may still be taken by the time {@link #attach} runs; that fails {@code LOCKED} there.
   *
   * @throws TorusException as {@link #attach}
   */
  public static void checkAvailable(@Nullable Path nbdDevice) {
    device(nbdDevice, new LinuxNbdSyscalls());
  }

  /**
   * Disconnects a device left attached by a process that died ({@code torusblk nbd --detach}).
   *
   * @throws TorusException as {@link #attach}
   */
  public static void detach(Path nbdDevice) {
    detach(nbdDevice, new LinuxNbdSyscalls());
  }

  /** Makes a kernel socket server; a seam for tests. */
  interface ServerFactory {
    KernelSocketServer create();
  }

  static NbdKernelDevice attach(
      BlockDevice device, @Nullable Path nbdDevice, NbdSyscalls sys, ServerFactory servers) {
    Path path = device(nbdDevice, sys);
    int fd = open(sys, path);
    int[] pair;
    try {
      pair = sys.socketPair();
    } catch (SyscallException e) {
      sys.close(fd);
      throw failure(path, e);
    }
    boolean readOnly = device.readOnly();
    int flags = Export.transmissionFlags(readOnly, false, ReplyStyle.SIMPLE);
    KernelSocketServer server = null;
    try {
      sys.ioctl(fd, NBD_SET_BLKSIZE, KERNEL_BLOCK_SIZE);
      sys.ioctl(fd, NBD_SET_SIZE, device.size());
      sys.ioctl(fd, NBD_SET_FLAGS, flags);
      sys.ioctl(fd, NBD_SET_SOCK, pair[0]);
      server = servers.create();
      server.serve(pair[1], new Export(path.toString(), device, flags, ReplyStyle.SIMPLE, false,
          NbdServerConfig.DEFAULT_MAX_PAYLOAD, () -> {}));
    } catch (SyscallException | RuntimeException | LinkageError e) {
      if (server != null) {
        server.close();
      } else {
        sys.close(pair[1]);
      }
      clearQuietly(sys, fd);
      sys.close(pair[0]);
      sys.close(fd);
      throw e instanceof SyscallException se ? failure(path, se) : serveFailure(e);
    }
    NbdKernelDevice attached = new NbdKernelDevice(sys, server, path, fd, pair[0]);
    Thread doIt = new Thread(attached::doIt, "torus-nbd-doit-" + path.getFileName());
    // NBD_DO_IT blocks in the kernel until disconnect; it needs a thread, and must not keep the
    // JVM alive by itself.
    doIt.setDaemon(true);
    doIt.start();
    log.info("attached {} bytes to {}{}", device.size(), path, readOnly ? " (read-only)" : "");
    return attached;
  }

  static void detach(Path nbdDevice, NbdSyscalls sys) {
    Path path = checkExists(sys, nbdDevice);
    int fd = open(sys, path);
    try {
      sys.ioctl(fd, NBD_DISCONNECT, 0);
      sys.ioctl(fd, NBD_CLEAR_SOCK, 0);
    } catch (SyscallException e) {
      throw failure(path, e);
    } finally {
      sys.close(fd);
    }
    log.info("detached {}", path);
  }

  /** The device node, such as {@code /dev/nbd0}. */
  public Path path() {
    return path;
  }

  /**
   * Completes when the kernel let go of the device: after {@link #close()}, {@code nbd-client -d},
   * or {@link #detach}. Fails if {@code NBD_DO_IT} reported an error (such as a timeout).
   */
  public CompletableFuture<Void> disconnected() {
    return disconnected.copy();
  }

  /** Detaches from the kernel and waits (up to 30 s) until it let go; idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      if (!disconnectRequested && !fdsClosed) {
        disconnectRequested = true;
        try {
          sys.ioctl(fd, NBD_DISCONNECT, 0);
        } catch (SyscallException e) {
          log.warn("NBD_DISCONNECT on {} failed: {}", path, e.getMessage());
        }
      }
    }
    try {
      disconnected.get(DISCONNECT_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      // Reported through disconnected(); closing still succeeded.
    } catch (TimeoutException e) {
      log.warn("{} still attached {} after NBD_DISCONNECT", path, DISCONNECT_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void doIt() {
    SyscallException failure = null;
    try {
      sys.ioctl(fd, NBD_DO_IT, 0);
    } catch (SyscallException e) {
      failure = e;
    }
    synchronized (lock) {
      clearQuietly(sys, fd);
      sys.close(kernelSocket);
      sys.close(fd);
      fdsClosed = true;
    }
    server.close();
    log.info("{} disconnected{}", path, failure == null ? "" : ": " + failure.getMessage());
    if (failure == null) {
      disconnected.complete(null);
    } else {
      disconnected.completeExceptionally(failure(path, failure));
    }
  }

  private static KernelSocketServer epollServer() {
    return new EpollFdServer();
  }

  /** The device to attach: {@code nbdDevice} if it exists, else the first free one. */
  static Path device(@Nullable Path nbdDevice, NbdSyscalls sys) {
    return nbdDevice != null ? checkExists(sys, nbdDevice) : findFree(sys);
  }

  private static Path checkExists(NbdSyscalls sys, Path path) {
    if (!sys.exists(path.toString())) {
      if (!sys.exists("/dev/nbd0")) {
        throw unsupported();
      }
      throw new TorusException(ErrorCode.NOT_FOUND, path + " does not exist");
    }
    return path;
  }

  /** The first /dev/nbdX without a /sys/block/nbdX/pid (the pid of the process serving it). */
  private static Path findFree(NbdSyscalls sys) {
    int i = 0;
    for (; sys.exists("/dev/nbd" + i); i++) {
      if (!sys.exists("/sys/block/nbd" + i + "/pid")) {
        return Path.of("/dev/nbd" + i);
      }
    }
    if (i == 0) {
      throw unsupported();
    }
    throw new TorusException(ErrorCode.LOCKED,
        "all " + i + " NBD devices are in use; detach one or load nbd with more (nbds_max)");
  }

  private static int open(NbdSyscalls sys, Path path) {
    try {
      return sys.open(path.toString());
    } catch (SyscallException e) {
      throw failure(path, e);
    }
  }

  private static void clearQuietly(NbdSyscalls sys, int fd) {
    try {
      sys.ioctl(fd, NBD_CLEAR_SOCK, 0);
    } catch (SyscallException e) {
      log.debug("NBD_CLEAR_SOCK failed: {}", e.getMessage());
    }
  }

  private static TorusException failure(Path path, SyscallException e) {
    return switch (e.errno()) {
      case NbdSyscalls.ENOENT, NbdSyscalls.ENXIO, NbdSyscalls.ENODEV -> unsupported();
      case NbdSyscalls.EPERM, NbdSyscalls.EACCES -> new TorusException(ErrorCode.UNAVAILABLE,
          "attaching " + path + " needs root (CAP_SYS_ADMIN): " + e.getMessage(), e);
      case NbdSyscalls.EBUSY -> new TorusException(ErrorCode.LOCKED,
          path + " is in use by another NBD client; pick another device or detach it", e);
      default -> new TorusException(ErrorCode.UNAVAILABLE, path + ": " + e.getMessage(), e);
    };
  }

  private static TorusException unsupported() {
    return new TorusException(ErrorCode.NOT_SUPPORTED,
        "this kernel has no NBD support: there is no /dev/nbd0 (try 'modprobe nbd' as root; "
            + "containers and some kernels cannot load it). Serve the volume over the network "
            + "instead with 'torusblk nbdserve' and connect a userspace client such as nbdfuse, "
            + "qemu or nbd-client.");
  }

  private static TorusException serveFailure(Throwable e) {
    if (e instanceof TorusException te) {
      return te;
    }
    if (e instanceof LinkageError) {
      return new TorusException(ErrorCode.NOT_SUPPORTED,
          "serving the kernel's socket needs Netty's native epoll transport: " + e, e);
    }
    return new TorusException(ErrorCode.UNAVAILABLE, "cannot serve the kernel's socket: " + e, e);
  }
}
