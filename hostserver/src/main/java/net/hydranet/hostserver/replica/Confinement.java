package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.replica.Resources;

/**
 * Confines one replica (REPLICAS.md, "Confinement"): a cgroup with the bundle's limits, and the
 * command line that runs the replica inside it as its own user, in mount, PID, IPC and UTS
 * namespaces of its own, with RLIMIT_NOFILE set and a cleared environment.
 *
 * <p>The cgroup hierarchy is detected at {@code cgroupRoot}:
 *
 * <ul>
 *   <li><b>v2</b> (unified: {@code cgroup.controllers} at the root; Debian 12, Ubuntu 22.04+, RHEL
 *       9): one group {@code <base>/<parent>/<name>} with {@code memory.max}, {@code
 *       memory.swap.max}, {@code cpu.max} and {@code pids.max}. The base is the host server's own
 *       cgroup when systemd delegated it ({@code Delegate=yes}: the unit's subtree is ours to
 *       divide), else the root. A cgroup that hands controllers to its children must hold no
 *       process itself, so under a delegated unit the host server first moves itself into the leaf
 *       {@code <base>/hostserver}; then {@code +memory +cpu +pids} are enabled down the path in
 *       each {@code cgroup.subtree_control}.
 *   <li><b>v1</b>: groups {@code <parent>/<name>} of the memory, cpu (and cpuacct, where it is
 *       mounted apart) and pids controllers.
 * </ul>
 *
 * Where neither offers memory, cpu and pids, starting a replica is refused and the reason says
 * which controllers are missing and why.
 *
 * <p>The command line is a chain of execs, each doing one thing as root before the last drops it:
 *
 * <pre>
 * sh: join the groups (cgroup.procs), cd to the replica's directory
 *  → prlimit --nofile
 *  → unshare --mount --pid --fork --ipc --uts --mount-proc   (the replica becomes PID 1)
 *  → sh: a private /tmp (tmpfs)
 *  → setpriv: uid/gid 61000+slot, no groups, no new privileges, no capabilities
 *  → env -i: PATH, HOME, LANG, HYDRANET_CHANNEL, and the host server's HYDRANET_LOG_* only
 *  → java -cp bundle.jar MAIN ARGS
 * </pre>
 *
 * The process joins its groups before anything else runs, so every child inherits them. The groups
 * are reached through {@code /proc/<host server pid>/root}: {@code ip netns exec} (the virtual
 * host) mounts a fresh /sys for the namespace, which hides /sys/fs/cgroup.
 */
public final class Confinement {
  /** Processes of the cpu period: quota = cpus × this. */
  static final long CPU_PERIOD_US = 100_000;

  /** The controllers a replica's limits need. */
  static final List<String> V2_CONTROLLERS = List.of("memory", "cpu", "pids");

  /** The leaf a delegated host server moves itself into (no process may sit in an inner node). */
  static final String V2_SELF_LEAF = "hostserver";

  /** Which cgroup hierarchy a root holds. */
  public enum Hierarchy {
    V1,
    V2;

    /**
     * v2 if {@code root} is a cgroup2 mount (it has cgroup.controllers), v1 if it holds memory/.
     */
    public static Hierarchy at(Path root) throws IOException {
      if (Files.exists(root.resolve("cgroup.controllers"))) {
        return V2;
      }
      if (Files.isDirectory(root.resolve("memory"))) {
        return V1;
      }
      throw new IOException(
          "no cgroup hierarchy at "
              + root
              + ": neither cgroup v2 (no cgroup.controllers) nor the v1 memory controller"
              + " (no memory/)");
    }
  }

  private final Path cgroupRoot;
  private final String group;
  private final String name;
  private final int uid;
  private final Path dir;
  private final Resources resources;
  private final boolean separateCpuacct;
  private final boolean v2;

  /** On v2: the cgroup under which {@code <parent>/<name>} is made (delegated, or the root). */
  private final Path v2Base;

  /**
   * @param cgroupRoot where the cgroup v2 hierarchy or the v1 controllers are mounted
   *     (/sys/fs/cgroup)
   * @param parent the group that holds every replica's group ("hydranet")
   */
  public Confinement(
      Path cgroupRoot, String parent, String name, int uid, Path dir, Resources resources) {
    this(cgroupRoot, ownCgroup(), parent, name, uid, dir, resources);
  }

  /**
   * @param ownCgroup this process's cgroup v2 path ("/system.slice/x.service"), from
   *     /proc/self/cgroup
   */
  Confinement(
      Path cgroupRoot,
      String ownCgroup,
      String parent,
      String name,
      int uid,
      Path dir,
      Resources resources) {
    this.cgroupRoot = cgroupRoot;
    this.group = parent + "/" + name;
    this.name = name;
    this.uid = uid;
    this.dir = dir;
    this.resources = resources;
    this.v2 = Files.exists(cgroupRoot.resolve("cgroup.controllers"));
    this.separateCpuacct = !v2 && separateCpuacct(cgroupRoot);
    this.v2Base = v2 ? v2Base(cgroupRoot, ownCgroup) : null;
  }

  /** This process's cgroup v2 path (the "0::" line of /proc/self/cgroup), or "/" if none. */
  static String ownCgroup() {
    for (String line : lines(Path.of("/proc/self/cgroup"))) {
      if (line.startsWith("0::")) {
        return line.substring(3).strip();
      }
    }
    return "/";
  }

  /**
   * The delegated subtree: the host server's own cgroup, or its parent if it already sits in the
   * {@link #V2_SELF_LEAF} leaf (a second start in the same unit), or the root if it is at the root
   * or the group is not ours to write (not delegated).
   */
  static Path v2Base(Path root, String ownCgroup) {
    String rel = ownCgroup.replaceFirst("^/+", "");
    if (rel.isEmpty()) {
      return root;
    }
    Path own = root.resolve(rel);
    if (own.getFileName().toString().equals(V2_SELF_LEAF)) {
      own = own.getParent();
    }
    return Files.isWritable(own.resolve("cgroup.subtree_control")) ? own : root;
  }

  /** Whether this confinement uses the cgroup v2 hierarchy. */
  public boolean v2() {
    return v2;
  }

  /**
   * The groups of a replica a host server started before it last ended without removing it (a
   * crash, SIGKILL): good for {@link #signalAll} and {@link #removeGroups}, not for starting one.
   */
  static Confinement leftover(Path cgroupRoot, String parent, String name) {
    return new Confinement(cgroupRoot, parent, name, -1, null, null);
  }

  /**
   * Where the cgroup v1 controllers are seen from here: {@code configured} if the memory controller
   * is mounted there; otherwise the controllers are mounted (again: v1 gives the same hierarchy)
   * under {@code fallback}. A host server started with {@code ip netns exec}, as the test networks
   * start theirs, has a fresh /sys of its namespace's, without /sys/fs/cgroup; the mounts it makes
   * stay in that mount namespace.
   */
  public static Path visibleRoot(Path configured, Path fallback) throws IOException {
    if (Files.isDirectory(configured.resolve("memory"))
        || Files.exists(configured.resolve("cgroup.controllers"))) {
      return configured; // v1 controllers, or the v2 hierarchy
    }
    try {
      mountV1(configured, fallback);
    } catch (IOException v1) {
      // A v2-only host: the unified hierarchy, mounted again where this mount namespace sees it.
      Path unified = fallback.resolve("unified");
      if (Files.exists(unified.resolve("cgroup.controllers"))) {
        return unified;
      }
      Files.createDirectories(unified);
      String error = mount("cgroup2", null, unified);
      if (error == null) {
        return unified;
      }
      throw new IOException(v1.getMessage() + "; nor could cgroup2 be mounted: " + error, v1);
    }
    return fallback;
  }

  private static void mountV1(Path configured, Path fallback) throws IOException {
    for (String c : List.of("memory", "cpu", "cpuacct", "pids")) {
      Path dir = fallback.resolve(c);
      if (Files.exists(dir.resolve("cgroup.procs"))) {
        continue; // mounted by an earlier start
      }
      Files.createDirectories(dir);
      String error = mount("cgroup", c, dir);
      if (error != null && c.equals("cpu")) {
        error = mount("cgroup", "cpu,cpuacct", dir); // co-mounted on this host
      }
      if (error != null && !c.equals("cpuacct")) {
        throw new IOException(
            "no cgroup v1 "
                + c
                + " at "
                + configured.resolve(c)
                + ", and mounting it failed: "
                + error);
      }
    }
  }

  /**
   * Mounts a cgroup hierarchy: v1 ({@code type} cgroup) of {@code controllers}, or v2 ({@code
   * cgroup2}, controllers null) at {@code dir}; the error, or null.
   */
  private static String mount(String type, String controllers, Path dir) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("mount", "-t", type));
    if (controllers != null) {
      cmd.addAll(List.of("-o", controllers));
    }
    cmd.add("hydranet-" + (controllers == null ? type : controllers));
    cmd.add(dir.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "mount timed out";
      }
      return p.exitValue() == 0 ? null : out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** Whether cpuacct is a hierarchy of its own here (not co-mounted with cpu). */
  static boolean separateCpuacct(Path root) {
    Path cpu = root.resolve("cpu");
    Path acct = root.resolve("cpuacct");
    try {
      return Files.isDirectory(acct)
          && !Files.isSameFile(cpu, acct)
          && !Files.exists(cpu.resolve("cpuacct.usage"));
    } catch (IOException e) {
      return false;
    }
  }

  private List<String> controllers() {
    if (v2) {
      return List.of("unified"); // one group for every controller
    }
    return separateCpuacct
        ? List.of("memory", "cpu", "cpuacct", "pids")
        : List.of("memory", "cpu", "pids");
  }

  /** The group of {@code controller} (v1), or the replica's one group whatever is asked (v2). */
  public Path groupDir(String controller) {
    if (v2) {
      return v2Base.resolve(group);
    }
    return cgroupRoot.resolve(controller).resolve(group);
  }

  /** Makes the groups and writes their limits. */
  public void createGroups() throws IOException {
    if (v2) {
      createV2Group();
      return;
    }
    for (String c : controllers()) {
      if (!Files.isDirectory(cgroupRoot.resolve(c))) {
        throw new IOException(
            "no cgroup v1 " + c + " controller at " + cgroupRoot.resolve(c) + " (not mounted?)");
      }
      Files.createDirectories(groupDir(c));
    }
    Path mem = groupDir("memory");
    write(mem.resolve("memory.limit_in_bytes"), Long.toString(resources.memoryBytes()));
    // Without a memsw limit, swap would hold whatever the memory limit pushes out.
    if (Files.exists(mem.resolve("memory.memsw.limit_in_bytes"))) {
      write(mem.resolve("memory.memsw.limit_in_bytes"), Long.toString(resources.memoryBytes()));
    }
    Path cpu = groupDir("cpu");
    write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_US));
    write(
        cpu.resolve("cpu.cfs_quota_us"),
        Long.toString(resources.milliCpus() * CPU_PERIOD_US / 1000));
    write(groupDir("pids").resolve("pids.max"), Integer.toString(resources.pids()));
  }

  /**
   * v2: moves a delegated host server into its leaf, enables the controllers down to {@code
   * <base>/<parent>} and writes the replica group's limits.
   */
  private void createV2Group() throws IOException {
    List<String> offered = words(v2Base.resolve("cgroup.controllers"));
    List<String> missing = new ArrayList<>(V2_CONTROLLERS);
    missing.removeAll(offered);
    if (!missing.isEmpty()) {
      throw new IOException(
          "cgroup v2 at "
              + v2Base
              + " offers "
              + (offered.isEmpty() ? "no controllers" : "only " + String.join(" ", offered))
              + ", not "
              + String.join(" ", missing)
              + (v2Base.equals(cgroupRoot)
                  ? " (bound to cgroup v1 hierarchies on this host?)"
                  : " (the unit needs Delegate=yes, or its slice does not pass them down)"));
    }
    if (!v2Base.equals(cgroupRoot)) {
      // An inner node may not hold processes: the host server leaves its unit's cgroup for a leaf.
      Path leaf = v2Base.resolve(V2_SELF_LEAF);
      Files.createDirectories(leaf);
      if (!words(v2Base.resolve("cgroup.procs")).isEmpty()) {
        for (String pid : words(v2Base.resolve("cgroup.procs"))) {
          try {
            write(leaf.resolve("cgroup.procs"), pid);
          } catch (IOException e) {
            // a process that ended meanwhile
          }
        }
      }
    }
    enableControllers(v2Base);
    Path parent = groupDir("unified").getParent();
    Files.createDirectories(parent);
    enableControllers(parent);
    Path g = groupDir("unified");
    Files.createDirectories(g);
    write(g.resolve("memory.max"), Long.toString(resources.memoryBytes()));
    // As memsw on v1: swap must not hold what the memory limit pushes out.
    if (Files.exists(g.resolve("memory.swap.max"))) {
      write(g.resolve("memory.swap.max"), "0");
    }
    write(
        g.resolve("cpu.max"), (resources.milliCpus() * CPU_PERIOD_US / 1000) + " " + CPU_PERIOD_US);
    write(g.resolve("pids.max"), Integer.toString(resources.pids()));
  }

  /** Writes {@code +memory +cpu +pids} to {@code dir}'s cgroup.subtree_control if not there yet. */
  private static void enableControllers(Path dir) throws IOException {
    Path control = dir.resolve("cgroup.subtree_control");
    List<String> on = words(control);
    StringBuilder add = new StringBuilder();
    for (String c : V2_CONTROLLERS) {
      if (!on.contains(c)) {
        add.append(add.length() == 0 ? "" : " ").append('+').append(c);
      }
    }
    if (add.length() > 0) {
      write(control, add.toString());
    }
  }

  private static List<String> words(Path file) {
    List<String> out = new ArrayList<>();
    for (String line : lines(file)) {
      for (String w : line.strip().split("\\s+")) {
        if (!w.isEmpty()) {
          out.add(w);
        }
      }
    }
    return out;
  }

  private static void write(Path file, String value) throws IOException {
    try {
      Files.writeString(file, value);
    } catch (IOException e) {
      throw new IOException("cannot write " + value + " to " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The confined command line for {@code command} (the replica's own argv: java and its arguments).
   */
  public List<String> argv(List<String> command, Path channel) {
    // The host server's view of the cgroup mounts, valid in any mount namespace it starts.
    Path self = Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "root");
    List<String> argv = new ArrayList<>();
    argv.add("/bin/sh");
    argv.add("-c");
    // In a network namespace of its own (the virtual host's), the replica may bind the ports its
    // bundle names, 80 included, without a capability; the host's own namespace is left alone.
    argv.add(
        "d=$1; shift; while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done;"
            + " shift; cd \"$d\" || exit 125;"
            + " if [ \"$(readlink /proc/self/ns/net)\" != \"$(readlink "
            + self.getParent()
            + "/ns/net)\" ]; then echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start"
            + " || exit 125; fi; exec \"$@\"");
    argv.add("hydranet-replica-" + name);
    argv.add(dir.toString());
    for (String c : controllers()) {
      Path procs = groupDir(c).resolve("cgroup.procs").toAbsolutePath();
      // Already through /proc/<pid>/root: valid as it is in any mount namespace.
      argv.add(procs.startsWith("/proc") ? procs.toString() : self + procs.toString());
    }
    argv.add("--");
    argv.addAll(
        List.of(
            "prlimit",
            "--nofile=" + resources.files() + ":" + resources.files(),
            "--",
            "unshare",
            "--mount",
            "--pid",
            "--fork",
            "--ipc",
            "--uts",
            "--mount-proc",
            "--kill-child=SIGTERM",
            "--",
            "/bin/sh",
            "-c",
            // A private /tmp, unless the replica's own directory is under it (it would vanish).
            "case \"$PWD/\" in /tmp/*) ;; *) mount -t tmpfs -o mode=1777,size=16m,nosuid,nodev"
                + " tmpfs /tmp || exit 125;; esac; hostname \"$0\"; exec \"$@\"",
            name,
            "setpriv",
            "--reuid=" + uid,
            "--regid=" + uid,
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
            "env",
            "-i",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "HOME=" + dir,
            "LANG=C.UTF-8",
            "HYDRANET_CHANNEL=" + channel));
    argv.addAll(logEnvironment());
    argv.addAll(command);
    return argv;
  }

  /**
   * The host server's log format and level (README.md, "Logs") for the replica's cleared
   * environment, as HYDRANET_LOG_FORMAT and HYDRANET_LOG_LEVEL: a HydraWeb replica then logs as its
   * host server does. Each is the host server's system property (set by {@code --log-format} and
   * {@code -v}) or, failing that, its own environment's; a value that is not a plain word is left
   * out.
   */
  static List<String> logEnvironment() {
    List<String> out = new ArrayList<>();
    String[][] settings = {
      {"hydranet.log.format", "HYDRANET_LOG_FORMAT"}, {"hydranet.log.level", "HYDRANET_LOG_LEVEL"}
    };
    for (String[] s : settings) {
      String v = System.getProperty(s[0]);
      if (v == null) {
        v = System.getenv(s[1]);
      }
      if (v != null && v.matches("[A-Za-z]{1,16}")) {
        out.add(s[1] + "=" + v);
      }
    }
    return out;
  }

  /**
   * The replica's own command: this JVM's java running the bundle's main class, sized by the
   * resources it was granted. The JVM is told its memory and CPUs rather than left to find them in
   * its cgroups: inside the replica's mount namespace (and under a host server whose cgroup
   * hierarchies are mounted elsewhere) it finds none, and then sized its heap from the whole
   * machine's memory — 12 GiB of heap in a 256 MiB group, killed by the kernel within a minute of a
   * flash crowd.
   */
  public static List<String> javaCommand(
      String mainClass, List<String> arguments, Resources resources) {
    return javaCommand(mainClass, arguments, resources, false);
  }

  /**
   * As above for a replica of an IPv4 or ({@code ipv6Origin}) an IPv6 origin: an IPv6 origin's
   * virtual host has no IPv4 address, and its JVM must keep its IPv6 stack.
   */
  public static List<String> javaCommand(
      String mainClass, List<String> arguments, Resources resources, boolean ipv6Origin) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.add("-XX:MaxRAM=" + resources.memoryBytes());
    // Half of it for the heap, and a bound on compiled code: the rest is for what the JVM keeps
    // outside the heap (classes, compiled code, thread stacks, malloc arenas, direct buffers).
    cmd.add("-XX:MaxRAMPercentage=50");
    cmd.add("-XX:ReservedCodeCacheSize=48m");
    cmd.add("-XX:ActiveProcessorCount=" + Math.max(1, (resources.milliCpus() + 999) / 1000));
    cmd.add("-XX:-UsePerfData");
    if (!ipv6Origin) {
      // An IPv4 origin: a wildcard socket must be an IPv4 one, which the virtual host sees in
      // /proc/PID/net/tcp and publishes (a dual-stack one shows in tcp6 only). An IPv6 origin's
      // virtual host publishes its tcp6 listeners, on the origin or on ::, so its JVM keeps IPv6
      // (with this property it could open no IPv6 socket at all).
      cmd.add("-Djava.net.preferIPv4Stack=true");
    }
    cmd.add("-cp");
    cmd.add("bundle.jar");
    cmd.add(mainClass);
    cmd.addAll(arguments);
    return cmd;
  }

  /** This JVM's java executable. */
  public static String java() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** The processes in the replica's groups. */
  public List<Long> processes() {
    List<Long> out = new ArrayList<>();
    for (String line : lines(groupDir("pids").resolve("cgroup.procs"))) {
      try {
        out.add(Long.parseLong(line.strip()));
      } catch (NumberFormatException e) {
        // not a pid: skip
      }
    }
    return out;
  }

  /** Signals every process in the groups; SIGTERM unless {@code kill}. Returns how many. */
  public int signalAll(boolean kill) {
    int n = 0;
    for (long pid : processes()) {
      var h = ProcessHandle.of(pid);
      if (h.isPresent()) {
        boolean sent = kill ? h.get().destroyForcibly() : h.get().destroy();
        n += sent ? 1 : 0;
      }
    }
    return n;
  }

  /**
   * Removes the groups, killing what is left in them first; waits up to {@code millis} for the
   * kernel to let go of them. Returns what could not be removed ("" if all went).
   */
  public String removeGroups(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    StringBuilder left = new StringBuilder();
    for (String c : controllers()) {
      Path g = groupDir(c);
      while (true) {
        try {
          Files.deleteIfExists(g);
          break;
        } catch (IOException e) {
          if (System.nanoTime() > deadline) {
            left.append(g).append(": ").append(e.getMessage()).append("; ");
            break;
          }
          signalAll(true);
          Thread.sleep(50);
        }
      }
    }
    return left.toString();
  }

  /** Memory, cpu and pids in use, and the memory limit's hits and kills. */
  public record Usage(
      long memoryBytes, long memoryLimit, long cpuNanos, int pids, long failcnt, int oomKills) {}

  public Usage usage() {
    if (v2) {
      Path g = groupDir("unified");
      String max =
          lines(g.resolve("memory.max")).isEmpty() ? "" : lines(g.resolve("memory.max")).get(0);
      return new Usage(
          number(g.resolve("memory.current")),
          max.strip().equals("max") ? Long.MAX_VALUE : number(g.resolve("memory.max")),
          keyed(g.resolve("cpu.stat"), "usage_usec") * 1000,
          (int) number(g.resolve("pids.current")),
          keyed(g.resolve("memory.events"), "max"),
          (int) keyed(g.resolve("memory.events"), "oom_kill"));
    }
    Path mem = groupDir("memory");
    Path acct = separateCpuacct ? groupDir("cpuacct") : groupDir("cpu");
    return new Usage(
        number(mem.resolve("memory.usage_in_bytes")),
        number(mem.resolve("memory.limit_in_bytes")),
        number(acct.resolve("cpuacct.usage")),
        (int) number(groupDir("pids").resolve("pids.current")),
        // With memsw limited to the same size, the memsw counter is the one that moves.
        Math.max(
            number(mem.resolve("memory.failcnt")), number(mem.resolve("memory.memsw.failcnt"))),
        oomKills());
  }

  /** The kernel's count of OOM kills in the memory group (the "oom_kill" line, kernel ≥ 4.13). */
  public int oomKills() {
    if (v2) {
      return (int) keyed(groupDir("unified").resolve("memory.events"), "oom_kill");
    }
    for (String line : lines(groupDir("memory").resolve("memory.oom_control"))) {
      if (line.startsWith("oom_kill ")) {
        try {
          return Integer.parseInt(line.substring(9).strip());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /** The value of the "KEY VALUE" line {@code key} of a flat-keyed file (cpu.stat), or 0. */
  private static long keyed(Path file, String key) {
    for (String line : lines(file)) {
      if (line.startsWith(key + " ")) {
        try {
          return Long.parseLong(line.substring(key.length() + 1).strip());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static long number(Path file) {
    List<String> l = lines(file);
    try {
      return l.isEmpty() ? 0 : Long.parseLong(l.get(0).strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      return List.of();
    }
  }
}
