package dev.torus.nbd;

import dev.torus.TorusExceptions;
import dev.torus.volume.BlockDevice;
import dev.torus.volume.VolumeService;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * How an {@link NbdServer} finds its exports: lists them, describes one, and opens one for a
 * connection. A resolver that serves every volume of a cluster fits the same shape as one that
 * serves a fixed set of devices ({@link #ofDevices}).
 *
 * <p>Every method returns a future so that lookups and opens (metadata reads, volume locks) never
 * block the server's event loop; implementations complete them on any thread. Failures carry a
 * {@link dev.torus.TorusException}: {@code NOT_FOUND} for an unknown name (the client sees {@code
 * NBD_REP_ERR_UNKNOWN}), {@code LOCKED} when the export is in use elsewhere ({@code
 * NBD_REP_ERR_POLICY}).
 *
 * <p>Thread-safe: many connections call a resolver concurrently.
 */
public interface ExportResolver {
  /** The exports to show to {@code NBD_OPT_LIST}, in display order. */
  CompletableFuture<List<ExportInfo>> list();

  /**
   * Describes one export without opening it ({@code NBD_OPT_INFO}, and the check before {@link
   * #open}). The default looks the name up in {@link #list()}; resolvers with many exports should
   * override it with a direct lookup.
   */
  default CompletableFuture<ExportInfo> describe(String name) {
    return list()
        .thenApply(
            exports ->
                exports.stream()
                    .filter(e -> e.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> TorusExceptions.notFound("export '" + name + "'")));
  }

  /**
   * Opens an export for one connection. The server calls {@link BlockDevice#close()} when that
   * connection ends and every request it started has completed, off the event loop.
   *
   * @param readOnly true if the server will refuse writes anyway (it is configured read-only or
   *     the export is), so the resolver can open without taking a writer's lock
   */
  CompletableFuture<BlockDevice> open(String name, boolean readOnly);

  /**
   * Serves devices the caller owns and keeps open: connections get views of them whose {@code
   * close()} does nothing, so the devices outlive connections and servers. Every connection to
   * one name shares one device object, so exports are advertised as multi-connection safe.
   *
   * @param devices devices by export name; the map is copied
   */
  static ExportResolver ofDevices(Map<String, BlockDevice> devices) {
    return new SharedDeviceResolver(devices);
  }

  /**
   * Serves every volume of {@code volumes} under its name, and each snapshot read-only as {@code
   * volume@snapshot}. All connections to a volume share one open volume, opened by the first and
   * committed and closed after the last; with {@code readOnly} volumes are opened read-only,
   * without taking their write lock. Close the result after the server to wait for the last
   * commits.
   */
  static VolumeExports ofVolumes(VolumeService volumes, boolean readOnly) {
    return new VolumeExports(volumes, readOnly);
  }

  /**
   * Serves only the exports of {@code resolver} that belong to {@code volumes}: a volume's own and
   * its snapshots ({@code volume@snapshot}). Other names are answered as unknown ones, and the
   * list shows only these.
   */
  static ExportResolver restrictedTo(Set<String> volumes, ExportResolver resolver) {
    return new RestrictedResolver(volumes, resolver);
  }
}
