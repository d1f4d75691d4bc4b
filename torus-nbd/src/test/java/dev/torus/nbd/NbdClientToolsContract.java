package dev.torus.nbd;

import static dev.torus.nbd.ExternalTools.require;
import static dev.torus.nbd.ExternalTools.requireRoot;
import static dev.torus.nbd.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real NBD clients (libnbd's nbdinfo, nbdcopy and nbdfuse, qemu-img, qemu-io, fio, and a
 * kernel ext4 file system through nbdfuse and a loop device) against an {@link NbdServer}.
 * Implementations supply the exports, so the same tests run over the model device now and over
 * real Torus volumes later:
 *
 * <pre>
 * final class VolumeClientToolsIT implements NbdClientToolsContract {
 *   public ExportResolver exports(String name, long size) { ... a fresh volume ... }
 * }
 * </pre>
 *
 * <p>Every test builds and checks data of its own: random bytes compared by SHA-256, patterns
 * verified by the tools, files checked after a server restart.
 */
public interface NbdClientToolsContract {
  Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

  /**
   * Exports serving one fresh, zeroed, writable export called {@code name} of {@code size}
   * bytes. The data must outlive servers: the tests stop a server and start another over the same
   * resolver, and expect to find what they wrote.
   */
  ExportResolver exports(String name, long size);

  /** A server on a free loopback port; the caller closes it. */
  default NbdServer serve(ExportResolver exports, NbdServerConfig.Builder config) {
    return NbdServer.start(config.port(0).build(), exports);
  }

  default NbdServer serve(ExportResolver exports) {
    return serve(exports, NbdServerConfig.builder());
  }

  static String uri(NbdServer server, String export) {
    return "nbd://127.0.0.1:" + server.boundAddress().getPort() + "/" + export;
  }

  @Test
  default void nbdinfoShowsTheExportTheListAndAMapWithHoles() {
    require("nbdinfo", "libnbd-bin");
    long size = 64L << 20;
    try (NbdServer server = serve(exports("disk", size),
            NbdServerConfig.builder().description("contract disk"));
        NbdTestClient c = NbdTestClient.open(server.boundAddress(), "disk",
            NbdTestClient.Mode.SIMPLE)) {
      byte[] pattern = new byte[1 << 20];
      java.util.Arrays.fill(pattern, (byte) 0x5a); // zeroes may become holes (Torus volumes do that)
      c.write(1 << 20, pattern);
      c.write(8L << 20, new byte[] {1});

      String info = run(TOOL_TIMEOUT, "nbdinfo", uri(server, "disk")).assertSuccess("nbdinfo")
          .output();
      assertThat(info).contains("export-size: " + size, "is_read_only: false",
          "can_flush: true", "can_trim: true", "can_zero: true", "base:allocation");

      String list = run(TOOL_TIMEOUT, "nbdinfo", "--list", uri(server, ""))
          .assertSuccess("nbdinfo --list").output();
      assertThat(list).contains("export=\"disk\"", "description: contract disk");

      String map = run(TOOL_TIMEOUT, "nbdinfo", "--map", uri(server, "disk"))
          .assertSuccess("nbdinfo --map").output();
      List<String> holes = map.lines().filter(l -> l.contains("hole")).toList();
      List<String> data = map.lines().filter(l -> l.contains("data")).toList();
      assertThat(holes).isNotEmpty();
      assertThat(data).anyMatch(l -> l.strip().startsWith((1 << 20) + " "));
      assertThat(map).contains("    0  data");
    }
  }

  @Test
  default void nbdcopyCopiesRandomDataInAndOutIntact(@TempDir Path tmp) {
    require("nbdcopy", "libnbd-bin");
    long size = 48L << 20;
    Path in = randomFile(tmp.resolve("in.raw"), size, 1);
    Path out = tmp.resolve("out.raw");
    ExportResolver exports = exports("disk", size);
    try (NbdServer server = serve(exports)) {
      run(TOOL_TIMEOUT, "nbdcopy", "--flush", in.toString(), uri(server, "disk"))
          .assertSuccess("nbdcopy in");
      run(TOOL_TIMEOUT, "nbdcopy", uri(server, "disk"), out.toString())
          .assertSuccess("nbdcopy out");
    }
    assertThat(sha256(out)).isEqualTo(sha256(in));
  }

  @Test
  default void qemuImgInfoConvertAndCompare(@TempDir Path tmp) {
    require("qemu-img", "qemu-utils");
    long size = 32L << 20;
    Path in = randomFile(tmp.resolve("in.raw"), size, 2);
    Path out = tmp.resolve("out.raw");
    try (NbdServer server = serve(exports("disk", size))) {
      String nbd = uri(server, "disk");
      assertThat(run(TOOL_TIMEOUT, "qemu-img", "info", nbd).assertSuccess("qemu-img info")
          .output()).contains("virtual size: 32 MiB (" + size + " bytes)");

      run(TOOL_TIMEOUT, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(),
          nbd).assertSuccess("qemu-img convert in");
      run(TOOL_TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw", in.toString(), nbd)
          .assertSuccess("qemu-img compare");
      run(TOOL_TIMEOUT, "qemu-img", "convert", "-f", "raw", "-O", "raw", nbd, out.toString())
          .assertSuccess("qemu-img convert out");
    }
    assertThat(sha256(out)).isEqualTo(sha256(in));
  }

  @Test
  default void qemuIoWritesAndVerifiesPatterns() {
    require("qemu-io", "qemu-utils");
    try (NbdServer server = serve(exports("disk", 16L << 20))) {
      String nbd = uri(server, "disk");
      run(TOOL_TIMEOUT, "qemu-io", "-f", "raw",
          "-c", "write -P 0xab 0 64k",
          "-c", "write -P 0xcd 1M 128k",
          "-c", "write -z 64k 64k",
          "-c", "discard 2M 1M",
          "-c", "flush",
          nbd).assertSuccess("qemu-io write");

      String verify = run(TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-r",
          "-c", "read -P 0xab 0 64k",
          "-c", "read -P 0xcd 1M 128k",
          "-c", "read -P 0 64k 64k",
          nbd).assertSuccess("qemu-io read").output();
      assertThat(verify).doesNotContain("Pattern verification failed", "failed");
      assertThat(verify.lines().filter(l -> l.startsWith("read "))).hasSize(3);
    }
  }

  @Test
  default void fioVerifiesRandomWritesWithCrc32c() {
    require("fio", "fio");
    try (NbdServer server = serve(exports("disk", 64L << 20))) {
      String json = run(TOOL_TIMEOUT, "fio", "--name=verify", "--ioengine=nbd",
          "--uri=" + uri(server, "disk"), "--rw=randwrite", "--bs=4k", "--iodepth=16",
          "--size=32m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
          "--output-format=json").assertSuccess("fio").output();
      // fio prints one line before its JSON.
      String report = json.substring(json.indexOf('{'));
      assertThat(report).contains("\"error\" : 0").doesNotContain("verify failed");
      assertThat(report).containsPattern("\"io_bytes\" : 33554432");
    }
  }

  @Test
  default void nbdinfoOverTheUnixSocket(@TempDir Path tmp) {
    require("nbdinfo", "libnbd-bin");
    Path socket = tmp.resolve("nbd.sock");
    try (NbdServer server = serve(exports("disk", 8L << 20),
        NbdServerConfig.builder().unixSocket(socket))) {
      String info = run(TOOL_TIMEOUT, "nbdinfo", "nbd+unix:///disk?socket=" + socket)
          .assertSuccess("nbdinfo over a Unix socket").output();
      assertThat(info).contains("export-size: " + (8L << 20));
    }
  }

  @Test
  default void ext4ThroughNbdfuseAndALoopDeviceSurvivesAServerRestart(@TempDir Path tmp)
      throws Exception {
    require("nbdfuse", "libnbd-bin");
    require("fusermount3", "fuse3");
    require("mkfs.ext4", "e2fsprogs");
    require("e2fsck", "e2fsprogs");
    require("losetup", "util-linux");
    requireRoot("mounting a file system through a loop device");
    ExportResolver exports = exports("disk", 128L << 20);
    Path fuse = Files.createDirectory(tmp.resolve("fuse"));
    Path fs = Files.createDirectory(tmp.resolve("fs"));
    Map<String, String> written = new LinkedHashMap<>();

    try (NbdServer server = serve(exports);
        Ext4OverNbd disk = Ext4OverNbd.attach(fuse, uri(server, "disk"))) {
      run(TOOL_TIMEOUT, "mkfs.ext4", "-q", "-F", disk.loopDevice()).assertSuccess("mkfs.ext4");
      disk.mount(fs);
      Random random = new Random(7);
      for (int i = 0; i < 24; i++) {
        byte[] content = new byte[random.nextInt(3 << 20)];
        random.nextBytes(content);
        Path file = Files.createDirectories(fs.resolve("dir" + i % 4)).resolve("file" + i);
        Files.write(file, content);
        written.put(fs.relativize(file).toString(), sha256(file));
      }
      run(TOOL_TIMEOUT, "sync").assertSuccess("sync");
      disk.unmount(fs);
    }

    try (NbdServer restarted = serve(exports);
        Ext4OverNbd disk = Ext4OverNbd.attach(fuse, uri(restarted, "disk"))) {
      run(TOOL_TIMEOUT, "e2fsck", "-n", "-f", disk.loopDevice()).assertSuccess("e2fsck -n");
      disk.mount(fs);
      for (Map.Entry<String, String> e : written.entrySet()) {
        assertThat(sha256(fs.resolve(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
      }
      disk.unmount(fs);
    }
  }

  /** nbdfuse exposing an export as a file, and a loop device over that file. */
  final class Ext4OverNbd implements AutoCloseable {
    private final Path mountpoint;
    private final Process nbdfuse;
    private final String loop;
    private boolean mounted;

    private Ext4OverNbd(Path mountpoint, Process nbdfuse, String loop) {
      this.mountpoint = mountpoint;
      this.nbdfuse = nbdfuse;
      this.loop = loop;
    }

    static Ext4OverNbd attach(Path mountpoint, String uri) throws InterruptedException {
      Process nbdfuse = ExternalTools.start("nbdfuse", mountpoint.resolve("disk").toString(), uri);
      Path file = mountpoint.resolve("disk");
      long deadline = System.nanoTime() + TOOL_TIMEOUT.toNanos();
      while (!Files.exists(file)) {
        if (!nbdfuse.isAlive() || System.nanoTime() > deadline) {
          nbdfuse.destroyForcibly();
          throw new AssertionError("nbdfuse did not mount " + uri);
        }
        Thread.sleep(20);
      }
      String loop = run(TOOL_TIMEOUT, "losetup", "-f", "--show", file.toString())
          .assertSuccess("losetup").output().strip();
      return new Ext4OverNbd(mountpoint, nbdfuse, loop);
    }

    String loopDevice() {
      return loop;
    }

    void mount(Path at) {
      run(TOOL_TIMEOUT, "mount", "-t", "ext4", loop, at.toString()).assertSuccess("mount");
      mounted = true;
    }

    void unmount(Path at) {
      run(TOOL_TIMEOUT, "umount", at.toString()).assertSuccess("umount");
      mounted = false;
    }

    /** Takes everything down, even after a failure, so no loop device or mount is left. */
    @Override
    public void close() throws InterruptedException {
      if (mounted) {
        run(TOOL_TIMEOUT, "umount", "-l", loop);
      }
      run(TOOL_TIMEOUT, "losetup", "-d", loop);
      run(TOOL_TIMEOUT, "fusermount3", "-u", mountpoint.toString());
      if (!nbdfuse.waitFor(30, TimeUnit.SECONDS)) {
        nbdfuse.destroyForcibly();
        throw new AssertionError("nbdfuse did not exit after fusermount3 -u");
      }
    }
  }

  static Path randomFile(Path path, long size, long seed) {
    Random random = new Random(seed);
    byte[] chunk = new byte[1 << 20];
    try (var out = Files.newOutputStream(path)) {
      for (long written = 0; written < size; written += chunk.length) {
        random.nextBytes(chunk);
        out.write(chunk, 0, (int) Math.min(chunk.length, size - written));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return path;
  }

  static String sha256(Path file) {
    try (var in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 20];
      for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
