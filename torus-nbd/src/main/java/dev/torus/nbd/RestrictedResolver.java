package dev.torus.nbd;

import dev.torus.TorusExceptions;
import dev.torus.volume.BlockDevice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Serves the exports of another resolver that belong to named volumes; see {@link
 * ExportResolver#restrictedTo}. Any other name is answered as an unknown one, so a client learns
 * nothing about what else the cluster holds.
 */
final class RestrictedResolver implements ExportResolver {
  private final Set<String> volumes;
  private final ExportResolver all;

  RestrictedResolver(Set<String> volumes, ExportResolver all) {
    this.volumes = Set.copyOf(volumes);
    this.all = all;
  }

  @Override
  public CompletableFuture<List<ExportInfo>> list() {
    return all.list().thenApply(exports -> exports.stream().filter(e -> served(e.name())).toList());
  }

  @Override
  public CompletableFuture<ExportInfo> describe(String name) {
    return served(name) ? all.describe(name) : unknown(name);
  }

  @Override
  public CompletableFuture<BlockDevice> open(String name, boolean readOnly) {
    return served(name) ? all.open(name, readOnly) : unknown(name);
  }

  /** A volume's own export, or one of its snapshots ({@code volume@snapshot}). */
  private boolean served(String name) {
    return volumes.contains(ExportName.parse(name).volume());
  }

  private static <T> CompletableFuture<T> unknown(String name) {
    return CompletableFuture.failedFuture(TorusExceptions.notFound("export '" + name + "'"));
  }
}
