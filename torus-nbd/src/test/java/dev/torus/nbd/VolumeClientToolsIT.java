package dev.torus.nbd;

import dev.torus.DataSize;
import dev.torus.internal.concurrent.Futures;
import dev.torus.metadata.GlobalMetadata;
import dev.torus.metadata.embedded.EmbeddedMetadata;
import dev.torus.storage.BlockStore;
import dev.torus.storage.BlockStores;
import dev.torus.storage.FileStoreConfig;
import dev.torus.volume.VolumeConfig;
import dev.torus.volume.VolumeFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/**
 * The client tools against real Torus volumes over each store: embedded metadata in SQLite, each
 * test on a fresh cluster in a temporary directory. The volume service outlives the servers a test
 * starts, as torusd's does.
 */
final class VolumeClientToolsIT {
  private final List<AutoCloseable> opened = new ArrayList<>();

  /** The durable file store: blocks received through the connection's read buffer. */
  @Nested
  final class FileStore implements NbdClientToolsContract {
    @Override
    public ExportResolver exports(String name, long size) {
      return volume(name, size, (dir, block, io) -> BlockStores.openFile(
          FileStoreConfig.of(dir.resolve("blocks"), block, DataSize.ofBytes(4 * size)), io));
    }
  }

  /** The in-memory store: blocks received in runs of adjacent memory. */
  @Nested
  final class MemoryStore implements NbdClientToolsContract {
    @Override
    public ExportResolver exports(String name, long size) {
      return volume(name, size, (dir, block, io) -> BlockStores.inMemory(block, 4 * size / block));
    }
  }

  private interface StoreOpener {
    BlockStore open(Path dir, int blockSize, ExecutorService io);
  }

  private ExportResolver volume(String name, long size, StoreOpener store) {
    try {
      Path dir = Files.createTempDirectory("torus-nbd-it");
      ExecutorService io = Executors.newFixedThreadPool(4);
      // The block size a cluster gets by default, so the real clients test what users run.
      int block = GlobalMetadata.defaultBlockSize();
      VolumeFixture f = VolumeFixture.build(block, VolumeConfig.DEFAULT,
          scheduler -> EmbeddedMetadata.open(dir.resolve("metadata.db"), Clock.systemUTC(), scheduler),
          store.open(dir, block, io));
      opened.add(io::shutdownNow);
      opened.add(f);
      Futures.join(f.volumes.catalog().create(name, size));
      return ExportResolver.ofVolumes(f.volumes, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterEach
  void closeVolumes() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }
}
