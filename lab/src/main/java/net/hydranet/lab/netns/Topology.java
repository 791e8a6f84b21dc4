package net.hydranet.lab.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * Builds a throw-away network of namespaces and veth links for one system test, and tears it down.
 *
 * <p>Every namespace is named {@code <prefix>-<name>} and every link left in the root namespace
 * must be named {@code <prefix>-…}, so that {@link #close()} — and the next {@link #create} with
 * the same prefix, after a crashed run — can find and delete everything this topology made without
 * touching anyone else's namespaces. Only addresses in 198.18.0.0/15 (RFC 2544's benchmarking
 * block) and 2001:2::/48 (RFC 5180's) are accepted, so a test can never route real traffic.
 *
 * <p>Commands run through {@code ip netns exec}; each has a timeout and every wait here is bounded,
 * so a wedged tool fails the test instead of hanging the build. A namespace argument of {@code
 * null} means the root namespace.
 */
public final class Topology implements AutoCloseable {
  /** Default bound for one command; {@code ping -c 2 -W 1} and ethtool finish well inside it. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private static final Duration KILL_WAIT = Duration.ofSeconds(3);
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,7}");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");
  private static final Pattern SYSCTL_KEY = Pattern.compile("[a-z0-9_]+([./][a-z0-9_-]+)*");
  private static final int MAX_IFNAME = 15; // IFNAMSIZ − 1
  private static final Path NETNS_ETC = Path.of("/etc/netns");
  private static final int TEST_NET = 0xC612_0000; // 198.18.0.0
  private static final int TEST_NET_MASK = 0xFFFE_0000; // /15
  private static final long TEST_NET6_HIGH = 0x2001_0002_0000_0000L; // 2001:2::
  private static final long TEST_NET6_MASK = 0xFFFF_FFFF_FFFF_0000L; // /48

  private final String prefix;
  private final Path workDir;
  private final List<String> namespaces = new ArrayList<>();
  private final List<String> rootLinks = new ArrayList<>();
  private final Deque<Process> spawned = new ArrayDeque<>();
  private final Map<String, String> rootSysctlsToRestore = new LinkedHashMap<>();
  private final Thread shutdownHook;
  private boolean closed;

  private Topology(String prefix) {
    this.prefix = prefix;
    try {
      this.workDir = Files.createTempDirectory("topology-" + prefix + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // A JVM killed by surefire's timeout runs hooks but not finally blocks: clean up there too.
    this.shutdownHook = new Thread(this::closeQuietly, "topology-" + prefix + "-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts a topology whose names all begin with {@code prefix} (1–8 of [a-z0-9], a letter first),
   * after deleting any namespaces and root links a previous run left with the same prefix.
   */
  public static Topology create(String prefix) {
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("prefix must match " + PREFIX + ": " + prefix);
    }
    Topology topology = new Topology(prefix);
    try {
      topology.deleteStale();
    } catch (RuntimeException e) {
      topology.close();
      throw e;
    }
    return topology;
  }

  public String prefix() {
    return prefix;
  }

  /** Directory holding spawned processes' output logs ({@code <n>-<command>.log}). */
  public Path workDir() {
    return workDir;
  }

  /** The kernel's name for namespace {@code name}: {@code <prefix>-<name>}. */
  public String nsName(String name) {
    return prefix + "-" + name;
  }

  /** Creates namespace {@code <prefix>-<name>} with its loopback up. */
  public Topology namespace(String name) {
    checkOpen();
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("namespace name must match " + NAME + ": " + name);
    }
    String full = nsName(name);
    if (namespaces.contains(full)) {
      throw new IllegalArgumentException("namespace already created: " + full);
    }
    run(null, "ip", "netns", "add", full);
    namespaces.add(full);
    isolateResolver(full);
    run(name, "ip", "link", "set", "lo", "up");
    return this;
  }

  /**
   * Creates a veth pair with end {@code ifA} in {@code nsA} and {@code ifB} in {@code nsB}, both
   * up. Each end is created directly in its namespace, so a name like eth0 cannot collide with the
   * root namespace's own; an end in the root namespace ({@code null}) must be named {@code
   * <prefix>-…}.
   */
  public Topology link(String nsA, String ifA, String nsB, String ifB) {
    checkOpen();
    checkInterface(nsA, ifA);
    checkInterface(nsB, ifB);
    List<String> cmd = new ArrayList<>(List.of("ip", "link", "add", "name", ifA));
    if (nsA != null) {
      cmd.addAll(List.of("netns", known(nsA)));
    }
    cmd.addAll(List.of("type", "veth", "peer", "name", ifB));
    if (nsB != null) {
      cmd.addAll(List.of("netns", known(nsB)));
    }
    run(null, cmd.toArray(String[]::new));
    // Deleting either end deletes the pair; remember root ends so close() can remove them.
    if (nsA == null) {
      rootLinks.add(ifA);
    } else if (nsB == null) {
      rootLinks.add(ifB);
    }
    run(nsA, "ip", "link", "set", ifA, "up");
    run(nsB, "ip", "link", "set", ifB, "up");
    return this;
  }

  /** Adds {@code cidr} ("198.18.1.1/24"), which must lie in 198.18.0.0/15, to an interface. */
  public Topology address(String ns, String ifName, String cidr) {
    checkOpen();
    checkTestCidr(cidr);
    run(ns, "ip", "address", "add", cidr, "dev", ifName);
    return this;
  }

  /**
   * Adds the IPv6 {@code cidr} ("2001:2:0:1::10/64"), which must lie in 2001:2::/48, to an
   * interface, without duplicate address detection (usable at once: a test need not wait out DAD).
   */
  public Topology address6(String ns, String ifName, String cidr) {
    checkOpen();
    checkTestCidr6(cidr);
    run(ns, "ip", "-6", "address", "add", cidr, "dev", ifName, "nodad");
    return this;
  }

  /** Adds an IPv6 default route via {@code via} (in 2001:2::/48). */
  public Topology defaultRoute6(String ns, String via) {
    checkOpen();
    checkTestAddress6(via);
    run(ns, "ip", "-6", "route", "add", "default", "via", via);
    return this;
  }

  /** Adds an IPv6 route to {@code destination} (a prefix in 2001:2::/48) via {@code via}. */
  public Topology route6(String ns, String destination, String via) {
    checkOpen();
    checkTestCidr6(destination.contains("/") ? destination : destination + "/128");
    checkTestAddress6(via);
    run(ns, "ip", "-6", "route", "add", destination, "via", via);
    return this;
  }

  /**
   * Gives the namespace a resolver of its own on loopback ({@code ip netns exec} bind-mounts {@code
   * /etc/netns/NAME/resolv.conf} over {@code /etc/resolv.conf}). Programs that look names up behind
   * our back — Python's http.server asks for the PTR of its own address — then fail at once inside
   * the namespace instead of sending a query to the machine's real resolver, which is outside
   * 198.18.0.0/15.
   */
  private static void isolateResolver(String namespace) {
    try {
      Path dir = NETNS_ETC.resolve(namespace);
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write /etc/netns/" + namespace + "/resolv.conf", e);
    }
  }

  /** Creates a bridge {@code name} in {@code ns}, up, for a shared segment of several hosts. */
  public Topology bridge(String ns, String name) {
    checkOpen();
    checkInterface(ns, name);
    run(ns, "ip", "link", "add", "name", name, "type", "bridge");
    run(ns, "ip", "link", "set", name, "up");
    return this;
  }

  /** Attaches interface {@code ifName} of {@code ns} to the bridge {@code bridge} there. */
  public Topology attach(String ns, String ifName, String bridge) {
    checkOpen();
    run(ns, "ip", "link", "set", ifName, "master", bridge);
    return this;
  }

  /** Adds a default route via {@code via} (in 198.18.0.0/15). */
  public Topology defaultRoute(String ns, String via) {
    checkOpen();
    checkTestAddress(via);
    run(ns, "ip", "route", "add", "default", "via", via);
    return this;
  }

  /** Adds a route to {@code destination} (a prefix or host in 198.18.0.0/15) via {@code via}. */
  public Topology route(String ns, String destination, String via) {
    checkOpen();
    checkTestCidr(destination.contains("/") ? destination : destination + "/32");
    checkTestAddress(via);
    run(ns, "ip", "route", "add", destination, "via", via);
    return this;
  }

  /**
   * Turns off GRO, GSO, TSO and TX checksum offload, so frames on the wire are the frames the
   * kernel built (no 64 KB super-packets, no checksums left for hardware that veth does not have).
   * Features the driver reports as {@code [fixed]} are accepted as they are.
   */
  public Topology offloadsOff(String ns, String ifName) {
    checkOpen();
    // ethtool exits non-zero when some feature cannot change; the check below is the real test.
    exec(ns, "ethtool", "-K", ifName, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    ExecResult features = run(ns, "ethtool", "-k", ifName);
    List<String> stillOn = new ArrayList<>();
    for (String feature :
        List.of(
            "generic-receive-offload",
            "generic-segmentation-offload",
            "tcp-segmentation-offload",
            "tx-checksumming")) {
      for (String line : features.stdout().split("\n")) {
        String t = line.strip();
        if (t.startsWith(feature + ":") && t.contains(": on") && !t.contains("[fixed]")) {
          stillOn.add(feature);
        }
      }
    }
    if (!stillOn.isEmpty()) {
      throw new IllegalStateException(
          "offloads still on for " + where(ns, ifName) + ": " + String.join(", ", stillOn));
    }
    return this;
  }

  /**
   * Sets a sysctl ({@code net.ipv4.ip_forward}) in a namespace. In the root namespace ({@code
   * null}) the old value is restored on close, because the host outlives the test.
   */
  public Topology sysctl(String ns, String key, String value) {
    checkOpen();
    if (!SYSCTL_KEY.matcher(key).matches() || !value.matches("[A-Za-z0-9 _.:-]*")) {
      throw new IllegalArgumentException("bad sysctl " + key + "=" + value);
    }
    if (ns == null && !rootSysctlsToRestore.containsKey(key)) {
      rootSysctlsToRestore.put(key, run(null, "sysctl", "-n", key).stdout().strip());
    }
    run(ns, "sysctl", "-q", "-w", key + "=" + value);
    return this;
  }

  /** Runs a command in a namespace with {@link #DEFAULT_TIMEOUT}; never throws for a failure. */
  public ExecResult exec(String ns, String... cmd) {
    return exec(ns, DEFAULT_TIMEOUT, cmd);
  }

  /**
   * Runs a command in a namespace, killing it at {@code timeout}; a non-zero exit is reported in
   * the result, not thrown.
   */
  public ExecResult exec(String ns, Duration timeout, String... cmd) {
    checkOpen();
    return execArgv(argv(ns, cmd), timeout);
  }

  /**
   * Starts a background process in a namespace, its output going to a log in {@link #workDir()}; it
   * and its descendants are killed on {@link #close()}.
   */
  public Process spawn(String ns, String... cmd) {
    checkOpen();
    List<String> argv = argv(ns, cmd);
    String tool = Path.of(cmd[0]).getFileName().toString().replaceAll("[^A-Za-z0-9_.-]", "_");
    Path log = workDir.resolve(spawned.size() + "-" + tool + ".log");
    try {
      Process process =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      spawned.push(process);
      logs.put(process, log);
      return process;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", argv), e);
    }
  }

  private final java.util.Map<Process, Path> logs =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  /** What a process started by {@link #spawn} has written so far, or "" . */
  public String logOf(Process process) {
    Path log = logs.get(process);
    try {
      return log == null || !Files.exists(log) ? "" : Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  /** The MAC address of an interface, as the low 48 bits of a long. */
  public long mac(String ns, String ifName) {
    checkOpen();
    ExecResult result = run(ns, "ip", "-o", "link", "show", "dev", ifName);
    String[] words = result.stdout().split("\\s+");
    for (int i = 0; i + 1 < words.length; i++) {
      if (words[i].equals("link/ether")) {
        return EthernetHeader.parseMac(words[i + 1]);
      }
    }
    throw new IllegalStateException("no Ethernet address for " + where(ns, ifName) + ": " + result);
  }

  /**
   * Kills spawned processes, deletes every namespace and root link this topology made, restores
   * root sysctls. Keeps going past individual failures and reports them together at the end.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: this is the hook running.
    }
    List<String> failures = new ArrayList<>();
    while (!spawned.isEmpty()) {
      kill(spawned.pop());
    }
    for (String link : rootLinks) {
      ExecResult r = runRaw(List.of("ip", "link", "del", link));
      if (!r.ok() && !r.stderr().contains("Cannot find device")) {
        failures.add("ip link del " + link + ": " + r.stderr().strip());
      }
    }
    for (String ns : namespaces) {
      deleteTree(NETNS_ETC.resolve(ns));
      ExecResult r = runRaw(List.of("ip", "netns", "del", ns));
      if (!r.ok()) {
        failures.add("ip netns del " + ns + ": " + r.stderr().strip());
      }
    }
    rootSysctlsToRestore.forEach(
        (key, value) -> {
          ExecResult r = runRaw(List.of("sysctl", "-q", "-w", key + "=" + value));
          if (!r.ok()) {
            failures.add("restore " + key + ": " + r.stderr().strip());
          }
        });
    deleteTree(workDir);
    if (!failures.isEmpty()) {
      throw new IllegalStateException("topology " + prefix + " cleanup: " + failures);
    }
  }

  /** Namespaces named {@code <prefix>-…} that exist now. */
  public List<String> existingNamespaces() {
    List<String> found = new ArrayList<>();
    for (String line : runRaw(List.of("ip", "netns", "list")).stdout().split("\n")) {
      String name = line.strip().split("\\s+")[0];
      if (name.startsWith(prefix + "-")) {
        found.add(name);
      }
    }
    return found;
  }

  /** Root-namespace links named {@code <prefix>-…} that exist now. */
  public List<String> existingRootLinks() {
    List<String> found = new ArrayList<>();
    for (String line : runRaw(List.of("ip", "-o", "link")).stdout().split("\n")) {
      // "8: hnx1-r@if7: <BROADCAST,...": the name sits between the first ": " and '@' or ':'.
      String[] parts = line.split(": ", 3);
      if (parts.length >= 2) {
        String name = parts[1].split("[@:]")[0];
        if (name.startsWith(prefix + "-")) {
          found.add(name);
        }
      }
    }
    return found;
  }

  // ---- validation, public for tests that build commands of their own ----

  /** Parses an address and refuses anything outside 198.18.0.0/15. */
  public static int checkTestAddress(String address) {
    int value = Ipv4Header.parseAddress(address);
    if ((value & TEST_NET_MASK) != TEST_NET) {
      throw new IllegalArgumentException(
          address + " is outside 198.18.0.0/15, the only range system tests may use");
    }
    return value;
  }

  /** Parses an IPv6 address ({high, low}) and refuses anything outside 2001:2::/48. */
  public static long[] checkTestAddress6(String address) {
    long[] value = Ipv6Header.parseAddress(address);
    if ((value[0] & TEST_NET6_MASK) != TEST_NET6_HIGH) {
      throw new IllegalArgumentException(
          address + " is outside 2001:2::/48, the only IPv6 range system tests may use");
    }
    return value;
  }

  /** Checks "2001:2:…/len": the address in 2001:2::/48 and the prefix no wider than /48. */
  public static void checkTestCidr6(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("expected address/length: " + cidr);
    }
    checkTestAddress6(cidr.substring(0, slash));
    int length;
    try {
      length = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length: " + cidr, e);
    }
    if (length < 48 || length > 128) {
      throw new IllegalArgumentException(
          cidr + " reaches outside 2001:2::/48 (prefix length must be 48..128)");
    }
  }

  /** Checks "a.b.c.d/len": the address in 198.18.0.0/15 and the prefix no wider than /15. */
  public static void checkTestCidr(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("expected address/length: " + cidr);
    }
    checkTestAddress(cidr.substring(0, slash));
    int length;
    try {
      length = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length: " + cidr, e);
    }
    if (length < 15 || length > 32) {
      throw new IllegalArgumentException(
          cidr + " reaches outside 198.18.0.0/15 (prefix length must be 15..32)");
    }
  }

  // ---- internals ----

  private void deleteStale() {
    for (String link : existingRootLinks()) {
      runRaw(List.of("ip", "link", "del", link));
    }
    for (String ns : existingNamespaces()) {
      deleteTree(NETNS_ETC.resolve(ns));
      runRaw(List.of("ip", "netns", "del", ns));
    }
    List<String> left = new ArrayList<>(existingNamespaces());
    left.addAll(existingRootLinks());
    if (!left.isEmpty()) {
      throw new IllegalStateException("cannot delete stale topology " + prefix + ": " + left);
    }
  }

  /** Runs a set-up step and throws, naming the command, if it fails. */
  private ExecResult run(String ns, String... cmd) {
    ExecResult result = exec(ns, cmd);
    if (!result.ok()) {
      throw new IllegalStateException(
          String.join(" ", argv(ns, cmd)) + " failed: " + result.describe());
    }
    return result;
  }

  private List<String> argv(String ns, String... cmd) {
    if (cmd.length == 0) {
      throw new IllegalArgumentException("empty command");
    }
    List<String> argv = new ArrayList<>();
    if (ns != null) {
      argv.addAll(List.of("ip", "netns", "exec", known(ns)));
    }
    argv.addAll(Arrays.asList(cmd));
    return argv;
  }

  /** Runs outside the open check, for close() and stale clean-up. */
  private ExecResult runRaw(List<String> argv) {
    return execArgv(argv, DEFAULT_TIMEOUT);
  }

  private ExecResult execArgv(List<String> argv, Duration timeout) {
    Path out = null;
    Path err = null;
    try {
      // Files, not pipes: a chatty command can never block on a full pipe nobody reads, and the
      // timeout below holds even when the command never closes its output.
      // After close the work directory is gone; the system temp directory serves queries then.
      out =
          closed
              ? Files.createTempFile("exec-", ".out")
              : Files.createTempFile(workDir, "exec-", ".out");
      err =
          closed
              ? Files.createTempFile("exec-", ".err")
              : Files.createTempFile(workDir, "exec-", ".err");
      Process process =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      int exit;
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        exit = process.exitValue();
      } else {
        kill(process);
        exit = ExecResult.TIMED_OUT;
      }
      return new ExecResult(
          exit,
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new ExecResult(127, "", "cannot run " + String.join(" ", argv) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ExecResult(ExecResult.TIMED_OUT, "", "interrupted: " + String.join(" ", argv));
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  /** SIGTERM to the process and its descendants, then SIGKILL after a bounded wait. */
  private static void kill(Process process) {
    List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
    family.add(process.toHandle());
    family.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    for (ProcessHandle handle : family) {
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        handle.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        handle.destroyForcibly();
      }
    }
    try {
      process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String known(String ns) {
    String full = nsName(ns);
    if (!namespaces.contains(full)) {
      throw new IllegalArgumentException("no namespace " + ns + " in topology " + prefix);
    }
    return full;
  }

  private void checkInterface(String ns, String ifName) {
    if (ifName.isEmpty() || ifName.length() > MAX_IFNAME || !ifName.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("bad interface name (1-15 of [A-Za-z0-9_.-]): " + ifName);
    }
    if (ns == null && !ifName.startsWith(prefix + "-")) {
      throw new IllegalArgumentException(
          "a root-namespace link must be named "
              + prefix
              + "-… so clean-up can find it: "
              + ifName);
    }
    if (ns != null) {
      known(ns);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("topology " + prefix + " is closed");
    }
  }

  private static String where(String ns, String ifName) {
    return (ns == null ? "root" : ns) + "/" + ifName;
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println(e.getMessage());
    }
  }

  private static void deleteQuietly(Path path) {
    if (path != null) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // A leftover temp file is harmless; the directory goes on close.
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(Topology::deleteQuietly);
    } catch (IOException e) {
      // Best effort: a temp directory left behind does not affect the next run.
    }
  }

  @Override
  public String toString() {
    return "Topology["
        + prefix
        + (closed ? ", closed" : "")
        + ", namespaces "
        + namespaces
        + ", root links "
        + rootLinks
        + "]";
  }
}
