package dev.torus.nbd;

import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;

/**
 * {@link NbdSyscalls} through jnr-ffi against the C library: the JDK cannot pass a socket to
 * {@code ioctl} or create a socket pair. Loaded on first use, so machines that never attach to
 * the kernel never load native code for it.
 */
final class LinuxNbdSyscalls implements NbdSyscalls {
  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 0x80000;
  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;

  /** The C functions used; public because jnr-ffi implements it in a generated class. */
  public interface LibC {
    int open(String path, int flags);

    int close(int fd);

    int ioctl(int fd, long request, long arg);

    int socketpair(int domain, int type, int protocol, @Out int[] fds);

    String strerror(int errno);
  }

  private final LibC libc;
  private final Runtime runtime;

  LinuxNbdSyscalls() {
    this.libc = LibraryLoader.create(LibC.class).load("c");
    this.runtime = Runtime.getRuntime(libc);
  }

  @Override
  public boolean exists(String path) {
    return Files.exists(Path.of(path));
  }

  @Override
  public int open(String path) throws SyscallException {
    int fd = libc.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      throw failure("open " + path);
    }
    return fd;
  }

  @Override
  public int[] socketPair() throws SyscallException {
    int[] fds = new int[2];
    if (libc.socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
      throw failure("socketpair");
    }
    return fds;
  }

  @Override
  public void ioctl(int fd, int request, long arg) throws SyscallException {
    if (libc.ioctl(fd, request, arg) < 0) {
      throw failure("ioctl 0x" + Integer.toHexString(request));
    }
  }

  @Override
  public void close(int fd) {
    libc.close(fd);
  }

  private SyscallException failure(String call) {
    int errno = runtime.getLastError();
    return new SyscallException(call, errno, libc.strerror(errno));
  }
}
