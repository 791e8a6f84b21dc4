package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hydranet vhost}: the paper's {@code v_host(ip)} as a command. The command runs in a
 * network namespace of its own that holds the origin's address, joined to the host server by a veth
 * pair; the host server routes the origin's address into it, and answers ARP for the rest of the
 * world (proxy ARP), so replies leave through the host server's own routes, straight to the client.
 * Other processes on the host server are not affected. Every TCP port the command and its
 * descendants listen on and every UDP port they bind is published for the host server to announce,
 * and withdrawn when it closes or they exit.
 */
@Command(
    name = "vhost",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a command as a virtual host of an origin on this host server: it may bind sockets",
      "on the origin's address, and its listening ports are announced while they are open.",
      "",
      "An IPv6 origin gets its address (without duplicate address detection) and a default",
      "route through the host server's side of the link, fe80::1; its IPv6 listeners (on the",
      "origin or on ::) are announced.",
      "",
      "Example:",
      "  hydranet vhost --origin 198.18.2.10 -- python3 -m http.server 80 --bind 198.18.2.10",
      "  hydranet vhost --origin 2001:2::10 -- python3 -m http.server 80 --bind 2001:2::10"
    })
public final class VhostCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(VhostCommand.class);

  @Option(names = "--origin", required = true, description = "the origin's address, IPv4 or IPv6")
  String origin;

  @Option(
      names = "--state-dir",
      defaultValue = "/run/hydranet",
      description = "the host server's state directory (${DEFAULT-VALUE})")
  Path stateDir;

  @Option(
      names = "--tunnel-mtu",
      defaultValue = "1480",
      description =
          "MTU left inside the tunnel; the replica advertises MSS = this − 40 (IPv4), this − 60"
              + " (IPv6) (${DEFAULT-VALUE})")
  int tunnelMtu;

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "the replica and its arguments")
  List<String> command;

  /** The host server's side of an IPv6 virtual host's link: the namespace's default router. */
  static final String ROUTER6 = "fe80::1";

  @Override
  public Integer call() throws Exception {
    Origin o = parseOrigin(origin);
    long pid = ProcessHandle.current().pid();
    String ns = o.namespace(pid);
    String hostSide = o.hostLink();
    Path published = o.file(stateDir);
    Files.createDirectories(published.getParent());
    Teardown teardown = new Teardown(origin, published);
    // SIGTERM runs shutdown hooks but not finally blocks: the namespace must go either way.
    Runtime.getRuntime().addShutdownHook(new Thread(teardown, "hydranet-vhost-cleanup"));
    try {
      link(ns, hostSide, o.v6, teardown);
      if (o.v6) {
        address6(ns, hostSide);
      } else {
        address4(ns, hostSide);
      }
      if (!publish(published, pid, new TreeSet<>(), teardown.cleaned)) {
        return 1; // terminated while setting up
      }
      LOG.info("virtual host {} ready in namespace {}; starting {}", origin, ns, command);
      return runAndAnnounce(o, ns, pid, published, teardown);
    } finally {
      teardown.run();
    }
  }

  /** The origin's address, IPv4 or IPv6 (global unicast), or a {@link UserError}. */
  private static Origin parseOrigin(String origin) {
    try {
      if (origin.indexOf(':') >= 0) {
        long[] address6 = Ipv6Header.parseAddress(origin);
        if (Ipv6Header.isMulticast(address6[0])
            || Ipv6Header.isLinkLocal(address6[0])
            || (address6[0] >>> 56) == 0) {
          throw new IllegalArgumentException("not a global unicast address");
        }
        return new Origin(true, 0, address6);
      }
      return new Origin(false, Ipv4Header.parseAddress(origin), null);
    } catch (IllegalArgumentException e) {
      throw new UserError(
          "--origin: '"
              + origin
              + "' is not an IPv4 or IPv6 unicast address ("
              + e.getMessage()
              + ")");
    }
  }

  /** An origin of either family and the names the host server knows its virtual host by. */
  private record Origin(boolean v6, int address, long[] address6) {
    String namespace(long pid) {
      return v6
          ? VirtualHostDirectory.namespace6(address6[0], address6[1], pid)
          : VirtualHostDirectory.namespace(address, pid);
    }

    String hostLink() {
      return v6
          ? VirtualHostDirectory.hostLink6(address6[0], address6[1])
          : VirtualHostDirectory.hostLink(address);
    }

    Path file(Path stateDir) {
      return v6
          ? VirtualHostDirectory.file6(stateDir, address6[0], address6[1])
          : VirtualHostDirectory.file(stateDir, address);
    }

    TreeSet<String> listening(long pid) throws IOException {
      return v6 ? listening6(pid, address6[0], address6[1]) : VhostCommand.listening(pid, address);
    }
  }

  /**
   * Stops the command, withdraws the published file and undoes the set-up, once, from the main
   * thread's finally or the SIGTERM hook: both take the lock, so a hook arriving while the main
   * thread cleans up waits for it rather than letting the JVM halt half-way.
   */
  private static final class Teardown implements Runnable {
    private final String origin;
    private final Path published;
    private final List<String> undo = new ArrayList<>();
    private final AtomicReference<Process> child = new AtomicReference<>();
    final AtomicBoolean cleaned = new AtomicBoolean();

    Teardown(String origin, Path published) {
      this.origin = origin;
      this.published = published;
    }

    /** A command that undoes a step; undone in reverse order. */
    void undo(String command) {
      undo.add(0, command);
    }

    void child(Process c) {
      child.set(c);
    }

    @Override
    public void run() {
      synchronized (cleaned) {
        if (!cleaned.compareAndSet(false, true)) {
          return;
        }
        Process c = child.get();
        if (c != null && c.isAlive()) {
          c.destroy();
          try {
            if (!c.waitFor(2, TimeUnit.SECONDS)) {
              c.destroyForcibly();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        try {
          Files.deleteIfExists(published);
          for (String u : undo) {
            new ProcessBuilder(u.split(" "))
                .redirectErrorStream(true)
                .start()
                .waitFor(5, TimeUnit.SECONDS);
          }
        } catch (IOException e) {
          LOG.warn("cleanup of virtual host {}: {}", origin, e.getMessage());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** The namespace and its veth pair to the host server, offloads off on both ends. */
  private static void link(String ns, String hostSide, boolean v6, Teardown teardown)
      throws IOException, InterruptedException {
    sh("ip", "netns", "add", ns);
    teardown.undo("ip netns del " + ns);
    if (v6) {
      // Links made in the namespace from now on skip duplicate address detection: the
      // origin's address and eth0's link-local are usable at once, not seconds later.
      in(ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad");
    }
    sh("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns);
    teardown.undo("ip link del " + hostSide);
    sh("ip", "link", "set", hostSide, "up");
    sh("ethtool", "-K", hostSide, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    in(ns, "ip", "link", "set", "lo", "up");
    in(ns, "ip", "link", "set", "eth0", "up");
    in(ns, "ethtool", "-K", "eth0", "gro", "off", "gso", "off", "tso", "off", "tx", "off");
  }

  /**
   * The IPv6 origin in the namespace. No proxy NDP (it takes one entry per address): the
   * namespace's default router is the host side's own link-local address, and the host routes the
   * origin onto the link.
   */
  private void address6(String ns, String hostSide) throws IOException, InterruptedException {
    sh("ip", "-6", "addr", "add", ROUTER6 + "/64", "dev", hostSide, "nodad");
    sh("ip", "-6", "route", "add", origin + "/128", "dev", hostSide);
    in(ns, "ip", "-6", "addr", "add", origin + "/128", "dev", "eth0", "nodad");
    // The replica's SYN-ACK returns directly: it must advertise an MSS that fits the
    // tunnel itself (IPv6 header 40 + TCP 20).
    in(
        ns,
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        ROUTER6,
        "dev",
        "eth0",
        "advmss",
        Integer.toString(tunnelMtu - 60));
  }

  /** The IPv4 origin in the namespace, the host side answering ARP for the rest of the world. */
  private void address4(String ns, String hostSide) throws IOException, InterruptedException {
    writeSysctl("net/ipv4/conf/" + hostSide + "/proxy_arp", "1");
    writeSysctl("net/ipv4/conf/" + hostSide + "/rp_filter", "0");
    sh("ip", "route", "add", origin + "/32", "dev", hostSide);
    in(ns, "ip", "addr", "add", origin + "/32", "dev", "eth0");
    // The replica's SYN-ACKs go straight to the client, never past the redirector's MSS
    // clamp, so the replica itself must advertise an MSS that fits the tunnel: the client
    // then never sends a segment that needs fragmenting or a frag-needed round trip.
    in(
        ns,
        "ip",
        "route",
        "add",
        "default",
        "dev",
        "eth0",
        "advmss",
        Integer.toString(tunnelMtu - 40));
  }

  /**
   * Runs the command in the namespace and publishes its listening ports as they change (every 200
   * ms) until it exits.
   *
   * @return the command's exit value
   */
  private int runAndAnnounce(Origin o, String ns, long pid, Path published, Teardown teardown)
      throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    argv.addAll(command);
    Process running = new ProcessBuilder(argv).inheritIO().start();
    teardown.child(running);
    TreeSet<String> ports = new TreeSet<>();
    while (!running.waitFor(200, TimeUnit.MILLISECONDS)) {
      TreeSet<String> now = o.listening(running.pid());
      if (!now.equals(ports)) {
        for (String p : now) {
          if (!ports.contains(p)) {
            LOG.info("virtual host {} listening {}", origin, p.replace(' ', '/'));
          }
        }
        for (String p : ports) {
          if (!now.contains(p)) {
            LOG.info("virtual host {} closed {}", origin, p.replace(' ', '/'));
          }
        }
        ports = now;
        if (!publish(published, pid, ports, teardown.cleaned)) {
          break;
        }
      }
    }
    LOG.info("virtual host {}: command exited with {}", origin, running.exitValue());
    return running.exitValue();
  }

  /**
   * Writes the ports the virtual host serves where the host server reads them, unless it has
   * withdrawn: on SIGTERM the shutdown hook deletes the file while this thread may still be
   * publishing the last change it saw (the replica's socket closing before its process is reaped),
   * and a write after that delete would leave the origin published with nothing behind it. The hook
   * deletes under the same lock, so a write lands before the delete or not at all.
   *
   * @return false if the virtual host has withdrawn and nothing was written
   */
  static boolean publish(Path published, TreeSet<String> ports, AtomicBoolean cleaned)
      throws IOException {
    return publish(published, 0, ports, cleaned);
  }

  /**
   * As {@link #publish(Path, TreeSet, AtomicBoolean)}, the first line {@code pid PID} naming this
   * process ({@code pid} > 0), whose pid names the virtual host's namespace: the host server finds
   * its own virtual host's namespace by it, never another host server's of the same origin, and
   * sees a virtual host replaced between two of its scans.
   */
  static boolean publish(Path published, long pid, TreeSet<String> ports, AtomicBoolean cleaned)
      throws IOException {
    synchronized (cleaned) {
      if (cleaned.get()) {
        return false;
      }
      Path tmp = published.resolveSibling(published.getFileName() + ".tmp");
      Files.writeString(
          tmp,
          (pid > 0 ? "pid " + pid + "\n" : "")
              + String.join("\n", ports)
              + (ports.isEmpty() ? "" : "\n"));
      Files.move(
          tmp, published, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return true;
    }
  }

  /**
   * TCP ports in LISTEN and bound UDP ports of the namespace {@code pid} lives in, on the origin's
   * address or the wildcard, IPv4 or dual-stack IPv6 sockets, as "tcp 80" / "udp 53". /proc/PID/net
   * is per namespace, so the replica's sockets are seen and nothing else's.
   */
  static TreeSet<String> listening(long pid, int origin) {
    TreeSet<String> ports = new TreeSet<>();
    SCANNER.get().scan(pid, origin, ports);
    return ports;
  }

  /** As {@link #listening}, for an IPv6 origin: its tcp6/udp6 sockets on it or on {@code ::}. */
  static TreeSet<String> listening6(long pid, long high, long low) {
    TreeSet<String> ports = new TreeSet<>();
    SCANNER.get().scan6(pid, high, low, ports);
    return ports;
  }

  /** The scan's buffers, reused: the loop calls it five times a second for the replica's life. */
  private static final ThreadLocal<ProcNetListeners> SCANNER =
      ThreadLocal.withInitial(ProcNetListeners::new);

  private static void writeSysctl(String key, String value) throws IOException {
    Files.writeString(Path.of("/proc/sys").resolve(key), value);
  }

  private static void in(String ns, String... cmd) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    argv.addAll(List.of(cmd));
    sh(argv.toArray(new String[0]));
  }

  private static void sh(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new UserError(String.join(" ", cmd) + ": timed out");
    }
    // ethtool exits non-zero when a feature is fixed; the others must succeed.
    if (p.exitValue() != 0
        && !cmd[0].equals("ethtool")
        && !(cmd.length > 4 && cmd[4].equals("ethtool"))) {
      throw new UserError(String.join(" ", cmd) + ": " + out.strip());
    }
  }
}
