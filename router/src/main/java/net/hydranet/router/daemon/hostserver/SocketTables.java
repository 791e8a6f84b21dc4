package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.forwarding.wire.Ipv4Header;
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
 */
public final class SocketTables {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private final boolean noSecondChance;
  private final HostServerPath path;
  private final SockDiag sockets;

  /** Origins whose socket table the forwarding thread has (main thread only). */
  private final java.util.Set<Integer> socketTables = new java.util.HashSet<>();

  public SocketTables(boolean noSecondChance, HostServerPath path, SockDiag sockets) {
    this.noSecondChance = noSecondChance;
    this.path = path;
    this.sockets = sockets;
  }

  /**
   * Opens the sock_diag socket of {@code origin}'s virtual host and hands it to the forwarding
   * thread. Its namespace is named after the origin and the {@code hydranet vhost} process (the
   * newest wins); the socket is made in the namespace of that process's child, the replica's {@code
   * ip netns exec}, through {@code /proc/CHILD/ns/net}: the name's bind mount under /run/netns is
   * made inside the vhost's own mount namespace when the vhost itself runs under {@code ip netns
   * exec}, and is not seen here. Main thread only.
   *
   * @return true once the virtual host has a socket table; until then its segments are injected
   *     (counted second_chance_unknown)
   */
  boolean open(int origin, boolean say) {
    if (noSecondChance || socketTables.contains(origin)) {
      return true;
    }
    String prefix = VirtualHostDirectory.namespace(origin, 0);
    prefix = prefix.substring(0, prefix.length() - 1);
    Path netns = Path.of("/run/netns");
    Path newest = null;
    try (java.util.stream.Stream<Path> names = Files.list(netns)) {
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
      Path own = Files.readSymbolicLink(Path.of("/proc/" + vhost + "/ns/net"));
      for (ProcessHandle child :
          (Iterable<ProcessHandle>)
              ProcessHandle.of(vhost)
                      .map(ProcessHandle::children)
                      .orElse(java.util.stream.Stream.empty())
                  ::iterator) {
        Path ns = Path.of("/proc/" + child.pid() + "/ns/net");
        if (!Files.readSymbolicLink(ns).equals(own)) {
          namespace = ns;
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The vhost process is gone or not ours to read: try the name itself.
    }
    try {
      int fd = SockDiag.openIn(namespace);
      path.command(() -> sockets.install(origin, fd));
      socketTables.add(origin);
      LOG.info(
          "second chance for {}: socket table of namespace {} ({})",
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
    socketTables.remove(origin);
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
