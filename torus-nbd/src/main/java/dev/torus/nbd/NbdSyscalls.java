package dev.torus.nbd;

/**
 * The system calls kernel attach makes, behind a seam so the ioctl sequence can be tested with a
 * fake. {@link LinuxNbdSyscalls} is the real one.
 */
interface NbdSyscalls {
  /** A failed call, with the errno it set. */
  final class SyscallException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int errno;

    SyscallException(String call, int errno, String reason) {
      super(call + " failed: " + reason + " (errno " + errno + ")", null, false, false);
      this.errno = errno;
    }

    int errno() {
      return errno;
    }
  }

  int ENOENT = 2;
  int ENXIO = 6;
  int EACCES = 13;
  int EPERM = 1;
  int EBUSY = 16;
  int ENODEV = 19;

  /** Whether a path exists (device nodes, sysfs entries). */
  boolean exists(String path);

  /** {@code open(path, O_RDWR)}: a file descriptor. */
  int open(String path) throws SyscallException;

  /** {@code socketpair(AF_UNIX, SOCK_STREAM, 0)}: two connected file descriptors. */
  int[] socketPair() throws SyscallException;

  /** {@code ioctl(fd, request, arg)}; may block (NBD_DO_IT does until disconnect). */
  void ioctl(int fd, int request, long arg) throws SyscallException;

  /** {@code close(fd)}; errors are ignored, there is nothing to do about them. */
  void close(int fd);
}
