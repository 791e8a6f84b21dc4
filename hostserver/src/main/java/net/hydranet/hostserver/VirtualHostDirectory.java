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

/**
 * The virtual hosts that {@code hydranet vhost} processes publish on this host server: one file
 * {@code <origin>.vhost} each under {@code <state-dir>/vhosts}, whose lines are {@code tcp PORT}
 * and {@code udp PORT} for every port the replica listens on. The host server scans it and turns
 * differences into events, which until the control plane exists are logged (and the virtual-host
 * table follows them).
 */
public final class VirtualHostDirectory {
  /** A change seen by {@link #scan}. */
  public interface Listener {
    void virtualHostAdded(int origin);

    void virtualHostRemoved(int origin);

    void portBound(int origin, String protocol, int port);

    void portClosed(int origin, String protocol, int port);
  }

  private final Path directory;
  private final Map<Integer, Set<String>> known = new HashMap<>();

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
    Map<Integer, Set<String>> now = new HashMap<>();
    if (Files.isDirectory(directory)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.vhost")) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          int origin;
          try {
            origin = Ipv4Header.parseAddress(name.substring(0, name.length() - ".vhost".length()));
          } catch (IllegalArgumentException e) {
            continue;
          }
          Set<String> ports = new HashSet<>();
          try {
            List<String> lines = Files.readAllLines(f);
            for (String line : lines) {
              String l = line.strip();
              if (l.matches("(tcp|udp) \\d{1,5}")) {
                ports.add(l);
              }
            }
          } catch (IOException e) {
            // Being rewritten: take it as it was.
            ports = known.getOrDefault(origin, Set.of());
          }
          now.put(origin, ports);
        }
      } catch (IOException e) {
        return;
      }
    }
    for (Map.Entry<Integer, Set<String>> e : now.entrySet()) {
      Set<String> before = known.get(e.getKey());
      if (before == null) {
        listener.virtualHostAdded(e.getKey());
        before = Set.of();
      }
      for (String p : e.getValue()) {
        if (!before.contains(p)) {
          String[] w = p.split(" ");
          listener.portBound(e.getKey(), w[0], Integer.parseInt(w[1]));
        }
      }
      for (String p : before) {
        if (!e.getValue().contains(p)) {
          String[] w = p.split(" ");
          listener.portClosed(e.getKey(), w[0], Integer.parseInt(w[1]));
        }
      }
    }
    for (Map.Entry<Integer, Set<String>> e : known.entrySet()) {
      if (!now.containsKey(e.getKey())) {
        for (String p : e.getValue()) {
          String[] w = p.split(" ");
          listener.portClosed(e.getKey(), w[0], Integer.parseInt(w[1]));
        }
        listener.virtualHostRemoved(e.getKey());
      }
    }
    known.clear();
    known.putAll(now);
  }
}
