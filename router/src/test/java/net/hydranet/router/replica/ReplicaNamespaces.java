package net.hydranet.router.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import net.hydranet.control.auth.Keys;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.cli.HydraNetCommand;

/**
 * The replica system tests' fixture: a host server's network namespace and a replica manager's,
 * made for one test and joined by a veth ({@code m0} on the host server's side with {@code
 * hostServer6}/64, {@code h0} on the manager's with {@code manager6}/64, both without DAD), the
 * Ed25519 keys of the host server ({@code hs}) and of the origin ({@code origin}) in a work
 * directory, and a state directory under {@code /run} for the host server. Namespaces are {@code
 * PREFIX-hs-TAG} and {@code PREFIX-m-TAG} with a random tag; those an earlier run left under the
 * same prefix are deleted first, and {@link #close} stops the host server process, then deletes
 * this test's namespaces and directories. Every wait here is bounded. Only 2001:2::/48 and
 * 198.18.0.0/15 inside.
 *
 * <p>Its static helpers (processes with a time limit, their output, the test replica's bundle)
 * serve the replica tests that make no namespace as well.
 */
final class ReplicaNamespaces implements AutoCloseable {
  /** How {@link #close} stops the process {@link #startInHostServer} started. */
  enum Stop {
    /** It removes its replicas and ends when its standard input closes. */
    CLOSE_INPUT,
    /** SIGTERM: a daemon removes its replicas and leaves. */
    SIGTERM
  }

  /** What a process printed, and how it ended. */
  record Ran(int code, String out) {}

  /** The host server's namespace; its end of the veth is {@code m0}. */
  final String hostServer;

  /** The manager's namespace; its end of the veth is {@code h0}. */
  final String manager;

  /** The random part of both namespaces' names. */
  final String tag;

  /** The work directory: keys {@code hs.*} and {@code origin.*}, bundles, configs. */
  final Path dir;

  /** The host server's state directory, under {@code /run}. */
  final Path state;

  private final String manager6;
  private Process process;
  private Stop stop;

  private ReplicaNamespaces(String prefix, String manager6) throws IOException {
    this.manager6 = manager6;
    this.tag = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    this.hostServer = prefix + "hs-" + tag;
    this.manager = prefix + "m-" + tag;
    this.dir = Files.createTempDirectory(prefix);
    this.state = Files.createTempDirectory(Path.of("/run"), prefix);
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
  }

  /**
   * Skips the test where namespaces cannot be made (not root, no IPv6, no iproute2), deletes what
   * an earlier run left under {@code prefix}, and makes the two namespaces, the veth, the addresses
   * and the keys. If a step fails, what was made is deleted before the failure is thrown.
   */
  static ReplicaNamespaces create(String prefix, String hostServer6, String manager6)
      throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    assumeTrue(run(10, "ip", "-V").code() == 0, "iproute2 installed");
    assumeTrue(run(10, "ss", "-V").code() == 0, "ss (iproute2) installed");
    removeStale(prefix);
    ReplicaNamespaces n = new ReplicaNamespaces(prefix, manager6);
    try {
      n.link(hostServer6, manager6);
      Keys.write(Keys.generate(), n.dir.resolve("hs"));
      Keys.write(Keys.generate(), n.dir.resolve("origin"));
      return n;
    } catch (Exception | Error e) {
      try {
        n.close();
      } catch (IOException c) {
        e.addSuppressed(c);
      }
      throw e;
    }
  }

  private void link(String hostServer6, String manager6) throws Exception {
    for (String ns : List.of(hostServer, manager)) {
      sh("ip", "netns", "add", ns);
      sh("ip", "-n", ns, "link", "set", "lo", "up");
    }
    sh(
        "ip",
        "-n",
        hostServer,
        "link",
        "add",
        "m0",
        "type",
        "veth",
        "peer",
        "name",
        "h0",
        "netns",
        manager);
    sh("ip", "-n", hostServer, "-6", "addr", "add", hostServer6 + "/64", "dev", "m0", "nodad");
    sh("ip", "-n", manager, "-6", "addr", "add", manager6 + "/64", "dev", "h0", "nodad");
    sh("ip", "-n", hostServer, "link", "set", "m0", "up");
    sh("ip", "-n", manager, "link", "set", "h0", "up");
  }

  /** Namespaces an earlier run of a test with this prefix left. */
  private static void removeStale(String prefix) throws Exception {
    for (String line : run(10, "ip", "netns", "list").out().split("\n")) {
      String name = line.trim().split("\\s+")[0];
      if (name.startsWith(prefix)) {
        run(10, "ip", "netns", "del", name);
      }
    }
  }

  /** A random address of the /64 whose first half is {@code prefix64} (e.g. "2001:2:0:fa::"). */
  static String randomAddress(String prefix64) {
    return prefix64 + Integer.toHexString(ThreadLocalRandom.current().nextInt(2, 0xfff0));
  }

  /** The path of file {@code name} in the work directory, e.g. "origin.key". */
  String key(String name) {
    return dir.resolve(name).toString();
  }

  /** {@link #bundle} of {@code origin} as {@code replica.jar}, signed with the origin's key. */
  Path signedBundle(String origin) throws Exception {
    Path jar = dir.resolve("replica.jar");
    Files.write(jar, bundle(origin));
    int signed = HydraNetCommand.execute("bundle", "sign", "--key", key("origin.key"), "" + jar);
    assertEquals(0, signed, "hydranet bundle sign");
    return jar;
  }

  /**
   * The operator's options of {@code hydranet replica} for this manager: the host server at {@code
   * hostServerAddress} with its key, the origin's key, the manager's IPv6 address.
   */
  String[] managerOptions(String hostServerAddress) {
    return new String[] {
      "--host-server",
      hostServerAddress,
      "--host-server-key",
      key("hs.pub"),
      "--key",
      key("origin.key"),
      "--address6",
      manager6
    };
  }

  /** {@code hydranet replica VERB OPTIONS… REST…} in the manager's namespace. */
  Ran replica(int seconds, String verb, String[] options, String... rest) throws Exception {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", manager));
    argv.addAll(HostServerCommand.hydranet());
    argv.addAll(List.of("replica", verb));
    argv.addAll(List.of(options));
    argv.addAll(List.of(rest));
    return run(seconds, argv.toArray(String[]::new));
  }

  /**
   * Starts {@code argv} in the host server's namespace, its output copied into {@code log}; {@link
   * #close} stops it as {@code stop} says.
   */
  Process startInHostServer(StringBuilder log, Stop stop, List<String> argv) throws IOException {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", hostServer));
    all.addAll(argv);
    this.stop = stop;
    this.process = new ProcessBuilder(all).redirectErrorStream(true).start();
    copy(process.getInputStream(), log);
    return process;
  }

  /** What listens on TCP in the host server's namespace ({@code ss -Htln}). */
  String listening() throws Exception {
    return sh("ip", "netns", "exec", hostServer, "ss", "-Htln");
  }

  /**
   * What TCP port 80 of {@code origin} says, asked from the host server's namespace (which routes
   * the origin's address to its virtual host) until it says hello or {@code seconds} pass.
   */
  String servedBy(String origin, int seconds) throws Exception {
    String served = "";
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!served.contains("hello") && System.nanoTime() < end) {
      served =
          run(
                  10,
                  "ip",
                  "netns",
                  "exec",
                  hostServer,
                  "timeout",
                  "5",
                  "bash",
                  "-c",
                  "exec 3<>/dev/tcp/" + origin + "/80 && head -c 6 <&3")
              .out();
      if (!served.contains("hello")) {
        Thread.sleep(300);
      }
    }
    return served;
  }

  /**
   * Stops the process, then deletes the namespaces and directories; an interrupt (a test's timeout)
   * does not cut the clean-up short, and is kept for the caller.
   */
  @Override
  public void close() throws IOException {
    boolean interrupted = Thread.interrupted();
    if (process != null) {
      try {
        stop(process, stop);
      } catch (InterruptedException e) {
        interrupted = true;
        process.destroyForcibly();
      }
    }
    for (String[] argv :
        List.of(
            new String[] {"ip", "netns", "del", hostServer},
            new String[] {"ip", "netns", "del", manager},
            new String[] {"rm", "-rf", state.toString(), dir.toString()})) {
      try {
        run(30, argv);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void stop(Process p, Stop how) throws InterruptedException {
    if (how == Stop.SIGTERM) {
      p.destroy();
    } else {
      try (OutputStream in = p.getOutputStream()) {
        in.flush();
      } catch (IOException e) {
        // already gone
      }
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  // ---- processes, bounded ----

  /**
   * Polls {@code done} every 100 ms until it holds or {@code seconds} pass; says whether it held.
   */
  static boolean await(int seconds, BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!done.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    return done.getAsBoolean();
  }

  /** Runs {@code argv}, killed after {@code seconds}. */
  static Ran run(int seconds, String... argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    StringBuilder out = new StringBuilder();
    Thread t = copy(p.getInputStream(), out);
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
    t.join(5000);
    synchronized (out) {
      return new Ran(p.exitValue(), out.toString());
    }
  }

  /** Runs {@code argv} for at most 30 s and asserts that it succeeded; returns its output. */
  static String sh(String... argv) throws IOException, InterruptedException {
    Ran r = run(30, argv);
    assertEquals(0, r.code(), String.join(" ", argv) + ": " + r.out());
    return r.out();
  }

  /** Copies {@code in} into {@code into} (under its lock) on a daemon thread, until it ends. */
  static Thread copy(InputStream in, StringBuilder into) {
    Thread t =
        new Thread(
            () -> {
              byte[] b = new byte[4096];
              try {
                int n;
                while ((n = in.read(b)) >= 0) {
                  synchronized (into) {
                    into.append(new String(b, 0, n, StandardCharsets.UTF_8));
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "replica-test-output");
    t.setDaemon(true);
    t.start();
    return t;
  }

  static boolean contains(StringBuilder b, String what) {
    synchronized (b) {
      return b.indexOf(what) >= 0;
    }
  }

  // ---- the test replica ----

  /** A bundle of {@link VhostListener} serving as {@code origin} on TCP 80. */
  static byte[] bundle(String origin) throws IOException {
    Manifest mf = new Manifest();
    Attributes a = mf.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.putValue("Main-Class", VhostListener.class.getName());
    a.putValue("HydraNet-Origin", origin);
    a.putValue("HydraNet-Ports", "tcp/80");
    a.putValue("HydraNet-Arguments", "80");
    a.putValue("HydraNet-Memory", "128m");
    a.putValue("HydraNet-Cpus", "0.5");
    a.putValue("HydraNet-Pids", "64");
    a.putValue("HydraNet-Files", "256");
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (JarOutputStream j = new JarOutputStream(b, mf)) {
      String entry = VhostListener.class.getName().replace('.', '/') + ".class";
      j.putNextEntry(new JarEntry(entry));
      try (InputStream in = VhostListener.class.getClassLoader().getResourceAsStream(entry)) {
        in.transferTo(j);
      }
      j.closeEntry();
    }
    return b.toByteArray();
  }
}
