/**
 * An NBD server over a {@link dev.torus.volume.BlockDevice}: {@link dev.torus.nbd.NbdServer}
 * speaks the fixed-newstyle protocol to userspace clients (qemu, libnbd, nbd-client) over TCP and
 * Unix sockets, and {@link dev.torus.nbd.NbdKernelDevice} attaches a device to the Linux kernel's
 * {@code /dev/nbdX}. Exports are found through an {@link dev.torus.nbd.ExportResolver}.
 */
@NullMarked
package dev.torus.nbd;

import org.jspecify.annotations.NullMarked;
