package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.SockDiag;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.router.daemon.DaemonLoggers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second chance's view of each virtual host's sockets: a sock_diag socket in its namespace,
 * opened on the main thread and handed to the forwarding thread (nothing with {@code
 * --no-second-chance}).
 *
 * <p>A virtual host's namespace is the one its {@code hydranet vhost} process made, named after the
 * origin and that process ({@link VirtualHostDirectory#namespace}); the process is the {@code pid}
 * line of the virtual host's file in this host server's own state directory, so neither another
 * host server's virtual host of the same origin on the same machine nor a stale name is taken for
 * it. The namespace is known by its nsfs inode ({@link NamespaceId}), checked at every directory
 * scan (one {@code stat} per virtual host): a virtual host replaced between two scans has a new
 * one, and its socket table is opened again there ({@code socket_tables_reopened}, and a log line).
 * A file without a {@code pid} line (an older vhost) falls back to the newest namespace of the
 * origin's name, opened once, as before.
 */
public final class SocketTables {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private final boolean noSecondChance;
  private final HostServerPath path;
  private final SockDiag sockets;
  private final Counters counters;

  /**
   * Origins whose socket table the forwarding thread has, with the namespace it was opened in (null
   * if that could not be told: the fallback for a vhost that names no process). Main thread only.
   */
  private final Map<Integer, NamespaceId> opened = new HashMap<>();

  /** The namespace whose table could not be opened again, by origin: said once. */
  private final Map<Integer, NamespaceId> refused = new HashMap<>();

  /** The vhost process of each virtual host whose file names one. Main thread only. */
  private final Map<Integer, Long> pids = new HashMap<>();

  public SocketTables(boolean noSecondChance, HostServerPath path, SockDiag sockets) {
    this(noSecondChance, path, sockets, null);
  }

  /**
   * @param counters where the forwarding thread counts {@code socket_tables_reopened} (null: not
   *     counted, only logged)
   */
  public SocketTables(
      boolean noSecondChance, HostServerPath path, SockDiag sockets, Counters counters) {
    this.noSecondChance = noSecondChance;
    this.path = path;
    this.sockets = sockets;
    this.counters = counters;
  }

  /** The {@code hydranet vhost} process of {@code origin}'s virtual host, as its file names it. */
  void process(int origin, long pid) {
    pids.put(origin, pid);
  }

  /**
   * Opens the sock_diag socket of {@code origin}'s virtual host and hands it to the forwarding
   * thread. Main thread only.
   *
   * @return true once the virtual host has a socket table; until then its segments are injected
   *     (counted second_chance_unknown)
   */
  boolean open(int origin, boolean say) {
    if (noSecondChance || opened.containsKey(origin)) {
      return true;
    }
    Long pid = pids.get(origin);
    if (pid == null) {
      return openGuessed(origin, say);
    }
    String name = VirtualHostDirectory.namespace(origin, pid);
    Located at = locate(origin, pid);
    if (at == null) {
      return fail(say, origin, "no namespace " + name + " of vhost process " + pid);
    }
    try {
      install(origin, SockDiag.openIn(at.path()), false);
      opened.put(origin, at.id());
      LOG.info(
          "second chance for {}: socket table of namespace {} ({}, {})",
          Ipv4Header.formatAddress(origin),
          name,
          at.path(),
          at.id());
      return true;
    } catch (IOException e) {
      return fail(say, origin, e.getMessage());
    }
  }

  /**
   * At every directory scan: each virtual host whose table is open and whose process is known is
   * checked for its namespace's inode, and its table opened again where that changed; one that has
   * none yet is tried again. The vhost process gone (its namespace not to be found) keeps the table
   * it has: the replica may live on in it. Main thread only.
   */
  void check() {
    if (noSecondChance) {
      return;
    }
    for (Map.Entry<Integer, Long> e : pids.entrySet()) {
      int origin = e.getKey();
      if (!opened.containsKey(origin)) {
        open(origin, false);
        continue;
      }
      Located at = locate(origin, e.getValue());
      NamespaceId was = opened.get(origin);
      if (at == null || at.id().equals(was)) {
        continue;
      }
      try {
        install(origin, SockDiag.openIn(at.path()), true);
        opened.put(origin, at.id());
        LOG.info(
            "second chance for {}: namespace {} replaced ({} was {}): socket table opened again"
                + " there",
            Ipv4Header.formatAddress(origin),
            VirtualHostDirectory.namespace(origin, e.getValue()),
            at.id(),
            was);
      } catch (IOException ex) {
        if (!at.id().equals(refused.put(origin, at.id()))) {
          LOG.warn(
              "second chance for {}: namespace replaced, its socket table cannot be opened: {}"
                  + " (tried again each scan, said once)",
              Ipv4Header.formatAddress(origin),
              ex.getMessage());
        }
      }
    }
  }

  private void install(int origin, int fd, boolean reopened) {
    Counters c = reopened ? counters : null;
    path.command(
        () -> {
          sockets.install(origin, fd);
          if (c != null) {
            c.add(HostServerCounter.SOCKET_TABLES_REOPENED.id(), 1);
          }
        });
  }

  /** A namespace file and the namespace it names. */
  private record Located(Path path, NamespaceId id) {}

  /**
   * The namespace vhost process {@code pid} made for {@code origin}: its /run/netns name seen
   * through that process's own root (the name's bind mount is made in the vhost's mount namespace
   * when the vhost runs under {@code ip netns exec}, and is not seen from here), or else the
   * namespace of its child, the replica's {@code ip netns exec}. Null if neither is a namespace.
   */
  private static Located locate(int origin, long pid) {
    Path named =
        Path.of("/proc/" + pid + "/root/run/netns/" + VirtualHostDirectory.namespace(origin, pid));
    NamespaceId id = NamespaceId.of(named);
    if (id != null) {
      return new Located(named, id);
    }
    Path child = childNamespace(pid);
    id = child == null ? null : NamespaceId.of(child);
    return id == null ? null : new Located(child, id);
  }

  /** The network namespace of a child of process {@code pid} in another than its own, or null. */
  private static Path childNamespace(long pid) {
    try {
      Path own = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net"));
      for (ProcessHandle child :
          (Iterable<ProcessHandle>)
              ProcessHandle.of(pid).map(ProcessHandle::children).orElse(Stream.empty())::iterator) {
        Path ns = Path.of("/proc/" + child.pid() + "/ns/net");
        if (!Files.readSymbolicLink(ns).equals(own)) {
          return ns;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The vhost process is gone or not ours to read.
    }
    return null;
  }

  /**
   * For a vhost that names no process: the namespace named after the origin and the newest {@code
   * hydranet vhost} process, through that process's child. Another host server's virtual host of
   * the same origin on this machine may be the newest: only a {@code pid} line tells them apart.
   */
  private boolean openGuessed(int origin, boolean say) {
    String prefix = VirtualHostDirectory.namespace(origin, 0);
    prefix = prefix.substring(0, prefix.length() - 1);
    Path netns = Path.of("/run/netns");
    Path newest = null;
    try (Stream<Path> names = Files.list(netns)) {
      for (Path p : (Iterable<Path>) names::iterator) {
        if (p.getFileName().toString().startsWith(prefix)
            && (newest == null
                || Files.getLastModifiedTime(p).compareTo(Files.getLastModifiedTime(newest)) > 0)) {
          newest = p;
        }
      }
    } catch (IOException e) {
      return fail(say, origin, "cannot list " + netns + ": " + e.getMessage());
    }
    if (newest == null) {
      return fail(say, origin, "no namespace " + prefix + "* under " + netns);
    }
    Path namespace = newest;
    try {
      long vhost = Long.parseLong(newest.getFileName().toString().substring(prefix.length()));
      Path child = childNamespace(vhost);
      if (child != null) {
        namespace = child;
      }
    } catch (RuntimeException e) {
      // Not a vhost's name: try the name itself.
    }
    try {
      int fd = SockDiag.openIn(namespace);
      install(origin, fd, false);
      opened.put(origin, NamespaceId.of(namespace));
      LOG.info(
          "second chance for {}: socket table of namespace {} ({}), guessed: the vhost names no"
              + " process",
          Ipv4Header.formatAddress(origin),
          newest.getFileName(),
          namespace);
      return true;
    } catch (IOException e) {
      return fail(say, origin, e.getMessage());
    }
  }

  /** Forgets {@code origin}'s socket table (its virtual host is gone). */
  void forget(int origin) {
    opened.remove(origin);
    pids.remove(origin);
    refused.remove(origin);
  }

  private static boolean fail(boolean say, int origin, String why) {
    if (say) {
      LOG.warn(
          "second chance for {}: {}: its segments are injected without one",
          Ipv4Header.formatAddress(origin),
          why);
    }
    return false;
  }
}
