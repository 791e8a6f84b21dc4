package net.hydranet.router.daemon.hostserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.SockDiag;
import net.hydranet.hostserver.SocketTable;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.VirtualHostLinkScan;
import net.hydranet.hostserver.VirtualHostLinks;
import net.hydranet.hostserver.VirtualHostTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which namespace's socket table the host server's second chance asks, with real namespaces and a
 * real connection held in one of them (SECOND-CHANCE.md, "How the host server knows there is no
 * socket"). A virtual host is simulated the way {@code hydranet vhost} leaves it: a process (a
 * {@code sleep} standing in for the vhost), a namespace named after the origin and that process
 * ({@code hydranet-vh-c613d307-PID}, origin 198.19.211.7, used by no other test) and the file in
 * the state directory naming its ports and its process. Each test asks the socket table the
 * directory scans gave the forwarding thread about a connection that lives in the right namespace.
 */
class SocketTablesNamespaceTest {
  private static final String ORIGIN = "198.19.211.7";
  private static final String CLIENT = "198.19.211.8";
  private static final int PORT = 8080;
  private static final int CLIENT_PORT = 40007;
  private static final String PREFIX =
      VirtualHostDirectory.namespace(Ipv4Header.parseAddress(ORIGIN), 0).replaceAll("0$", "");

  @TempDir Path state;

  private final List<Process> processes = new ArrayList<>();
  private final List<String> namespaces = new ArrayList<>();
  private final int origin = Ipv4Header.parseAddress(ORIGIN);
  private Counters counters;
  private HostServerPath path;
  private SockDiag sockets;
  private VirtualHostDirectory directory;
  private VirtualHostFollower follower;

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(run("sh", "-c", "command -v ip && command -v python3") == 0, "needs ip, python3");
    deleteStale();
    counters = new Counters(HostServerCounter.count());
    VirtualHostTable table = new VirtualHostTable();
    path =
        new HostServerPath(
            Ipv4Header.parseAddress("198.19.211.1"),
            counters,
            table,
            (b, o, l) -> true,
            4,
            1_000_000_000L);
    sockets = new SockDiag();
    SocketTables tables = new SocketTables(false, path, sockets, counters);
    follower =
        new VirtualHostFollower(
            path,
            table,
            sockets,
            tables,
            VirtualHostLinkScan.live(path, new VirtualHostLinks()),
            () -> null);
    directory = new VirtualHostDirectory(state);
    Files.createDirectories(directory.directory());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (sockets != null) {
      sockets.closeAll();
    }
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (String ns : namespaces) {
      run("ip", "netns", "del", ns);
    }
  }

  /**
   * A virtual host replaced by a new one (new process, new namespace, same origin and ports)
   * between two scans of the directory: the second scan must give the forwarding thread the new
   * namespace's socket table, or every connection of the new virtual host is taken for one that
   * lives elsewhere and passed on (SECOND-CHANCE.md's known gap, before).
   */
  @Test
  void shouldAskTheNewNamespaceOfAVirtualHostReplacedBetweenTwoScans() throws Exception {
    Process a = vhostProcess();
    String nsA = namespace(a);
    publish(a, "tcp " + PORT);
    scan();
    assertEquals(SocketTable.NOT_HELD, lookup(), "nothing is connected in the first namespace");

    // Replaced between two scans: the old one's namespace and process gone, the new one's made.
    a.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    run("ip", "netns", "del", nsA);
    Process b = vhostProcess();
    String nsB = namespace(b);
    connectIn(nsB);
    publish(b, "tcp " + PORT);
    scan();

    assertEquals(SocketTable.HELD, lookup(), "the connection of the new namespace is held");
    assertEquals(1, counters.get(HostServerCounter.SOCKET_TABLES_REOPENED.id()));
    scan();
    assertEquals(1, counters.get(HostServerCounter.SOCKET_TABLES_REOPENED.id()), "once");
  }

  /**
   * Another host server on the same machine holds a virtual host of the same origin, made later
   * (EcmpIT's two host servers, a replica of one origin each): its namespace has the same prefix
   * and is newer, but it is not this host server's.
   */
  @Test
  void shouldAskItsOwnVirtualHostsNamespaceNotANewerOneOfTheSameOrigin() throws Exception {
    Process own = vhostProcess();
    String nsOwn = namespace(own);
    connectIn(nsOwn);
    Thread.sleep(20);
    Process other = vhostProcess();
    namespace(other); // another host server's vhost of the same origin, newer
    publish(own, "tcp " + PORT);
    scan();

    assertEquals(SocketTable.HELD, lookup(), "the connection of its own namespace is held");
  }

  private int lookup() {
    return sockets.lookup(origin, PORT, Ipv4Header.parseAddress(CLIENT), CLIENT_PORT);
  }

  /** One scan of the directory, and what it handed the forwarding thread applied. */
  private void scan() {
    directory.scan(follower);
    path.tick(System.nanoTime());
  }

  /** A process standing in for a {@code hydranet vhost}: its pid names its namespace. */
  private Process vhostProcess() throws IOException {
    Process p = new ProcessBuilder("sleep", "600").start();
    processes.add(p);
    return p;
  }

  /** The namespace {@code hydranet vhost} of process {@code p} makes, with the origin's address. */
  private String namespace(Process p) throws Exception {
    String ns = VirtualHostDirectory.namespace(origin, p.pid());
    sh("ip", "netns", "add", ns);
    namespaces.add(ns);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
    sh("ip", "-n", ns, "addr", "add", ORIGIN + "/32", "dev", "lo");
    sh("ip", "-n", ns, "addr", "add", CLIENT + "/32", "dev", "lo");
    return ns;
  }

  /** A listener on the origin's port and one connection to it from CLIENT:CLIENT_PORT, held. */
  private void connectIn(String ns) throws Exception {
    String script =
        String.join(
            "\n",
            "import socket, time",
            "l = socket.socket()",
            "l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "l.bind(('" + ORIGIN + "', " + PORT + "))",
            "l.listen(4)",
            "c = socket.socket()",
            "c.bind(('" + CLIENT + "', " + CLIENT_PORT + "))",
            "c.connect(('" + ORIGIN + "', " + PORT + "))",
            "a, _ = l.accept()",
            "print('ready', flush=True)",
            "time.sleep(600)",
            "");
    Process p =
        new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-c", script)
            .redirectErrorStream(true)
            .start();
    processes.add(p);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertEquals("ready", line, "the connection in " + ns);
  }

  /** The file {@code hydranet vhost} of process {@code p} publishes: its process and its ports. */
  private void publish(Process p, String... ports) throws IOException {
    StringBuilder b = new StringBuilder("pid " + p.pid() + "\n");
    for (String port : ports) {
      b.append(port).append('\n');
    }
    Path file = VirtualHostDirectory.file(state, origin);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, b.toString());
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteStale() throws Exception {
    Path netns = Path.of("/run/netns");
    if (!Files.isDirectory(netns)) {
      return;
    }
    try (var names = Files.list(netns)) {
      for (Path p : names.toList()) {
        if (p.getFileName().toString().startsWith(PREFIX)) {
          run("ip", "netns", "del", p.getFileName().toString());
        }
      }
    }
  }

  private static void sh(String... cmd) throws Exception {
    int rc = run(cmd);
    assertTrue(rc == 0, String.join(" ", cmd) + ": exit " + rc);
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
