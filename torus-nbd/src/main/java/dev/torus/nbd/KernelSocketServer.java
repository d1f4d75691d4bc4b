package dev.torus.nbd;

/**
 * Serves NBD transmission on the server end of the kernel's socket pair; the seam that lets the
 * attach sequence be tested without a kernel. {@link EpollFdServer} is the real one.
 */
interface KernelSocketServer extends AutoCloseable {
  /** Starts serving {@code export} on the connected socket {@code fd}, which it then owns. */
  void serve(int fd, Export export);

  /** Stops serving and releases threads. */
  @Override
  void close();
}
