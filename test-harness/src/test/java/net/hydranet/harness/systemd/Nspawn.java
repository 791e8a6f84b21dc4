package net.hydranet.harness.systemd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Debian bookworm tree booted with systemd as its PID 1 in systemd-nspawn, for tests of the
 * package and its units under a real systemd (this machine's PID 1 is not systemd).
 *
 * <p>The base tree ({@code mmdebstrap --variant=minbase}, with systemd, a Java 17 runtime and the
 * package's dependencies) is built once and cached under {@link #CACHE}; each boot runs on an
 * overlayfs over it, so the cache stays clean. The container has a private network (only lo; the
 * tests make veth pairs inside). Commands run inside through {@code nsenter} into PID 1's
 * namespaces: with {@code --register=no} there is no machined, so {@code systemd-run --machine} and
 * {@code machinectl shell} cannot reach it, but systemctl and journalctl entered this way talk to
 * the container's systemd over its private socket.
 */
final class Nspawn implements AutoCloseable {
  /** The packages of the cached tree; the cache's name changes when this list does. */
  static final List<String> PACKAGES =
      List.of(
          "systemd",
          "systemd-sysv",
          "dbus",
          "openjdk-17-jre-headless",
          "libpcap0.8",
          "ethtool",
          "iproute2",
          "util-linux",
          "mount",
          "procps",
          "adduser",
          "nftables",
          // What hydranet-lab's demo runs besides the above (PackageUnitsIT runs it in here).
          "python3",
          "curl");

  static final Path CACHE =
      Path.of(System.getProperty("hydranet.nspawn.cache", "/var/cache/hydranet-test"));

  private final Path work;
  private final Path root;
  private final Process nspawn;
  private final long pid1;

  private Nspawn(Path work, Path root, Process nspawn, long pid1) {
    this.work = work;
    this.root = root;
    this.nspawn = nspawn;
    this.pid1 = pid1;
  }

  /** Why this machine cannot boot a container, or empty. */
  static Optional<String> unavailable() throws Exception {
    if (!run(List.of("id", "-u"), 10).strip().equals("0")) {
      return Optional.of("booting a container needs root");
    }
    for (String tool : List.of("systemd-nspawn", "nsenter")) {
      if (!onPath(tool)) {
        return Optional.of(tool + " is not installed (apt-get install systemd-container)");
      }
    }
    if (!Files.isDirectory(base()) && !onPath("mmdebstrap")) {
      return Optional.of("no cached tree at " + base() + " and no mmdebstrap to build one");
    }
    if (!Files.readString(Path.of("/proc/filesystems")).contains("overlay")) {
      return Optional.of("the kernel has no overlayfs");
    }
    return Optional.empty();
  }

  static boolean onPath(String tool) throws Exception {
    return new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
  }

  /** The cached base tree for this package list. */
  static Path base() {
    return CACHE.resolve("bookworm-" + Integer.toHexString(String.join(",", PACKAGES).hashCode()));
  }

  /** Builds the base tree if it is not cached (about 40 s on an idle machine, minutes if busy). */
  static Path ensureBase() throws Exception {
    Path base = base();
    if (Files.isDirectory(base.resolve("usr/lib/systemd"))) {
      return base;
    }
    Files.createDirectories(CACHE);
    Path tmp = CACHE.resolve(base.getFileName() + ".tmp");
    run(List.of("rm", "-rf", tmp.toString()), 120);
    run(
        List.of(
            "mmdebstrap",
            "--variant=minbase",
            "--include=" + String.join(",", PACKAGES),
            "bookworm",
            tmp.toString()),
        1800);
    Files.move(tmp, base);
    return base;
  }

  /** Boots a container over {@code base}; returns once systemd says the system is running. */
  static Nspawn boot(Path base, String name) throws Exception {
    Path work = Files.createTempDirectory("hydranet-nspawn-");
    Path upper = Files.createDirectories(work.resolve("upper"));
    Path wd = Files.createDirectories(work.resolve("work"));
    Path root = Files.createDirectories(work.resolve("root"));
    run(
        List.of(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            "lowerdir=" + base + ",upperdir=" + upper + ",workdir=" + wd,
            root.toString()),
        30);
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            "systemd-nspawn",
            "--register=no",
            "--keep-unit",
            "--quiet",
            "-D",
            root.toString(),
            "--machine=" + name,
            "--private-network",
            "--console=pipe",
            "--bind=/dev/net/tun",
            "-b"));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("console.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long pid1 = -1;
    while (pid1 < 0 && System.nanoTime() < deadline && p.isAlive()) {
      for (ProcessHandle c : p.toHandle().children().toList()) {
        if (c.info().command().orElse("").endsWith("systemd")) {
          pid1 = c.pid();
        }
      }
      Thread.sleep(200);
    }
    Nspawn n = new Nspawn(work, root, p, pid1);
    if (pid1 < 0) {
      String console = n.console();
      n.close();
      throw new IOException("the container's systemd did not start: " + console);
    }
    // Until systemd has made its private socket, systemctl cannot connect: ask again.
    Result r;
    do {
      r = n.exec("systemctl is-system-running --wait", 180);
      if (r.out.strip().equals("running") || r.out.strip().equals("degraded")) {
        break;
      }
      Thread.sleep(500);
    } while (System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(120));
    if (!r.out.strip().equals("running") && !r.out.strip().equals("degraded")) {
      String console = n.console();
      n.close();
      throw new IOException("the container did not boot (" + r.out.strip() + "): " + console);
    }
    return n;
  }

  Path root() {
    return root;
  }

  String console() throws IOException {
    Path log = work.resolve("console.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** The exit code and output (stdout and stderr) of a shell script run inside. */
  record Result(int code, String out) {}

  Result exec(String script, long timeoutSeconds) throws Exception {
    Process p =
        new ProcessBuilder(
                "timeout",
                Long.toString(timeoutSeconds),
                "nsenter",
                "-t",
                Long.toString(pid1),
                "-a",
                "sh",
                "-c",
                script)
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes(); // timeout(1) bounds it
    if (!p.waitFor(timeoutSeconds + 5, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + script);
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs a script inside and returns its output; fails if it exits non-zero. */
  String sh(String script) throws Exception {
    Result r = exec(script, 300);
    if (r.code != 0) {
      throw new IOException("exit " + r.code + ": " + script + "\n" + r.out);
    }
    return r.out;
  }

  /** systemctl show -P PROPERTY UNIT. */
  String property(String unit, String property) throws Exception {
    return sh("systemctl show -P " + property + " " + unit).strip();
  }

  /** Waits until {@code unit}'s ActiveState is {@code state}; returns the last state seen. */
  String awaitState(String unit, String state, long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    String now;
    do {
      now = property(unit, "ActiveState");
      if (now.equals(state)) {
        return now;
      }
      Thread.sleep(250);
    } while (System.nanoTime() < deadline);
    return now;
  }

  String journal(String unit) throws Exception {
    return exec("journalctl -u " + unit + " --no-pager -o cat", 60).out;
  }

  @Override
  public void close() throws IOException {
    try {
      // SIGTERM to nspawn halts the container's systemd cleanly; then force.
      nspawn.destroy();
      if (!nspawn.waitFor(60, TimeUnit.SECONDS)) {
        nspawn.destroyForcibly();
        nspawn.waitFor(10, TimeUnit.SECONDS);
      }
      run(List.of("umount", root.toString()), 30);
      run(List.of("rm", "-rf", work.toString()), 120);
    } catch (IOException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while halting the container", e);
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  static String run(List<String> cmd, long timeoutSeconds) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + cmd);
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + s);
    }
    return s;
  }
}
