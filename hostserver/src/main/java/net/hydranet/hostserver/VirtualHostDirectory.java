package net.hydranet.hostserver;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * The virtual hosts that {@code hydranet vhost} processes publish on this host server: one file
 * {@code <origin>.vhost} each under {@code <state-dir>/vhosts}, whose lines are {@code tcp PORT}
 * and {@code udp PORT} for every port the replica listens on, and {@code pid PID}: the {@code
 * hydranet vhost} process, which names the virtual host's network namespace (an older vhost writes
 * no such line). The host server scans it and turns differences into events, which until the
 * control plane exists are logged (and the virtual-host table follows them).
 */
public final class VirtualHostDirectory {
  /** A change seen by {@link #scan}. */
  public interface Listener {
    void virtualHostAdded(int origin);

    void virtualHostRemoved(int origin);

    void portBound(int origin, String protocol, int port);

    void portClosed(int origin, String protocol, int port);

    /** A virtual host of an IPv6 origin (its file is named by RFC 5952's form of it). */
    void virtualHost6Added(long high, long low);

    void virtualHost6Removed(long high, long low);

    void port6Bound(long high, long low, String protocol, int port);

    void port6Closed(long high, long low, String protocol, int port);

    /**
     * The {@code hydranet vhost} process of an IPv4 virtual host, when its file first names it or
     * names another (a virtual host replaced between two scans): reported before {@link
     * #virtualHostAdded} and the port events of the same scan.
     */
    default void virtualHostProcess(int origin, long pid) {}

    /** The end of every scan, changes or not (cheap checks that need no event go here). */
    default void scanned() {}
  }

  private final Path directory;

  /** By the file's origin: an Integer (IPv4) or an {@link Origin6}. */
  private final Map<Object, Set<String>> known = new HashMap<>();

  /** The {@code pid} line of each file that has one, by origin (as {@link #known}). */
  private final Map<Object, Long> pids = new HashMap<>();

  private record Origin6(long high, long low) {}

  public VirtualHostDirectory(Path stateDirectory) {
    this.directory = stateDirectory.resolve("vhosts");
  }

  public Path directory() {
    return directory;
  }

  /** The file a virtual host of {@code origin} publishes. */
  public static Path file(Path stateDirectory, int origin) {
    return stateDirectory.resolve("vhosts").resolve(Ipv4Header.formatAddress(origin) + ".vhost");
  }

  /** The file a virtual host of the IPv6 origin publishes: {@code 2001:2::10.vhost}. */
  public static Path file6(Path stateDirectory, long high, long low) {
    return stateDirectory.resolve("vhosts").resolve(Ipv6Header.formatAddress(high, low) + ".vhost");
  }

  /** As {@link #namespace(int, long)}, for an IPv6 origin: its 32 hex digits. */
  public static String namespace6(long high, long low, long pid) {
    return String.format(Locale.ROOT, "hydranet-vh6-%016x%016x-%d", high, low, pid);
  }

  /**
   * As {@link #hostLink(int)}, for an IPv6 origin: "hv6" and 12 hex digits of a hash of the address
   * (an interface name has at most 15 characters). Two origins whose hashes collide on one host
   * server make the second {@code hydranet vhost} fail with "File exists", never share a link.
   */
  public static String hostLink6(long high, long low) {
    long h = high * 0x9E37_79B9_7F4A_7C15L ^ low;
    h ^= h >>> 33;
    h *= 0xFF51_AFD7_ED55_8CCDL;
    h ^= h >>> 33;
    return String.format(Locale.ROOT, "hv6%012x", h & 0xFFFF_FFFF_FFFFL);
  }

  /**
   * The network namespace {@code hydranet vhost} (process {@code pid}) makes for {@code origin}:
   * unique per process, since two host servers on one machine may hold the same origin.
   */
  public static String namespace(int origin, long pid) {
    return "hydranet-vh-" + hex(origin) + "-" + pid;
  }

  /** The host server's side of the virtual host's link, routed to the origin's address. */
  public static String hostLink(int origin) {
    return "hv" + hex(origin);
  }

  private static String hex(int origin) {
    return String.format(Locale.ROOT, "%08x", origin);
  }

  /** Reads the directory and reports what changed since the last scan. */
  public void scan(Listener listener) {
    Map<Object, Set<String>> now = new HashMap<>();
    Map<Object, Long> pidsNow = new HashMap<>();
    if (Files.isDirectory(directory) && !read(now, pidsNow)) {
      listener.scanned();
      return;
    }
    for (Map.Entry<Object, Set<String>> e : now.entrySet()) {
      changed(listener, e.getKey(), e.getValue(), pidsNow.get(e.getKey()));
    }
    for (Map.Entry<Object, Set<String>> e : known.entrySet()) {
      if (!now.containsKey(e.getKey())) {
        for (String p : e.getValue()) {
          port(listener, e.getKey(), p, false);
        }
        removed(listener, e.getKey());
      }
    }
    known.clear();
    known.putAll(now);
    pids.clear();
    pids.putAll(pidsNow);
    listener.scanned();
  }

  /**
   * Each virtual host's ports into {@code now} and its process into {@code pidsNow}, by origin;
   * false if the directory could not be read.
   */
  private boolean read(Map<Object, Set<String>> now, Map<Object, Long> pidsNow) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.vhost")) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        Object origin = origin(name.substring(0, name.length() - ".vhost".length()));
        if (origin == null) {
          continue;
        }
        now.put(origin, ports(f, origin, pidsNow));
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The ports file {@code f} of {@code origin} names; its process into {@code pidsNow}. */
  private Set<String> ports(Path f, Object origin, Map<Object, Long> pidsNow) {
    Set<String> ports = new HashSet<>();
    try {
      List<String> lines = Files.readAllLines(f);
      for (String line : lines) {
        String l = line.strip();
        if (l.matches("(tcp|udp) \\d{1,5}")) {
          ports.add(l);
        } else if (l.matches("pid \\d{1,10}")) {
          pidsNow.put(origin, Long.parseLong(l.substring(4)));
        }
      }
    } catch (IOException e) {
      // Being rewritten: take it as it was.
      ports = known.getOrDefault(origin, Set.of());
      Long pid = pids.get(origin);
      if (pid != null) {
        pidsNow.put(origin, pid);
      }
    }
    return ports;
  }

  /**
   * What changed of {@code origin}'s virtual host since the last scan: a new process ({@code pid},
   * or null if its file names none), the virtual host itself new, ports added or gone.
   */
  private void changed(Listener listener, Object origin, Set<String> ports, Long pid) {
    if (pid != null && !pid.equals(pids.get(origin)) && origin instanceof Integer o) {
      listener.virtualHostProcess(o, pid);
    }
    Set<String> before = known.get(origin);
    if (before == null) {
      added(listener, origin);
      before = Set.of();
    }
    for (String p : ports) {
      if (!before.contains(p)) {
        port(listener, origin, p, true);
      }
    }
    for (String p : before) {
      if (!ports.contains(p)) {
        port(listener, origin, p, false);
      }
    }
  }

  /** The origin a file is named by: an Integer, an {@link Origin6}, or null if neither. */
  private static Object origin(String stem) {
    try {
      if (stem.indexOf(':') >= 0) {
        long[] a = Ipv6Header.parseAddress(stem);
        // Only what an IPv6 service may be: not ::/8 (IPv4-mapped included), link-local or
        // multicast; anything else here is not a virtual host's file.
        if ((a[0] >>> 56) == 0 || Ipv6Header.isLinkLocal(a[0]) || Ipv6Header.isMulticast(a[0])) {
          return null;
        }
        return new Origin6(a[0], a[1]);
      }
      return Ipv4Header.parseAddress(stem);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static void added(Listener listener, Object origin) {
    if (origin instanceof Origin6 o) {
      listener.virtualHost6Added(o.high(), o.low());
    } else {
      listener.virtualHostAdded((Integer) origin);
    }
  }

  private static void removed(Listener listener, Object origin) {
    if (origin instanceof Origin6 o) {
      listener.virtualHost6Removed(o.high(), o.low());
    } else {
      listener.virtualHostRemoved((Integer) origin);
    }
  }

  private static void port(Listener listener, Object origin, String line, boolean bound) {
    String[] w = line.split(" ");
    int port = Integer.parseInt(w[1]);
    if (origin instanceof Origin6 o) {
      if (bound) {
        listener.port6Bound(o.high(), o.low(), w[0], port);
      } else {
        listener.port6Closed(o.high(), o.low(), w[0], port);
      }
    } else if (bound) {
      listener.portBound((Integer) origin, w[0], port);
    } else {
      listener.portClosed((Integer) origin, w[0], port);
    }
  }
}
