package net.hydranet.harness.live;

import static net.hydranet.lab.netns.WebNetwork.HS1;
import static net.hydranet.lab.netns.WebNetwork.ORIGIN;
import static net.hydranet.lab.netns.WebNetwork.R1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.Topology;
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 22, "what it must show": HydraWeb's network ({@link WebNetwork}, the replica installed by
 * the origin's manager and learned by the redirector over the control plane) with one more host on
 * the client's LAN, the attacker, running three attacks at once at the highest rate its tools reach
 * here — a flood of forged control datagrams under the host server's address (hping3), a flood of
 * malformed HTTP requests to the replica through the redirector (wrk with a script), and a
 * slow-HELLO lockout of the host server's replica service (a Python slowloris) — while the client
 * fetches pages from the replica and the origin's manager connects to the replica service again and
 * again. Nothing legitimate may be lost: every client request answered by the replica, no host
 * server declared lost, the redirector's table never written, the manager admitted every time; and
 * every daemon's memory grows by less than 50 MB.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(420)
class HostileIT {
  private static final String ATTACKER = "198.18.1.66";
  private static final int ATTACK_SECONDS = 25;
  private static final int REPLICA_PORT = 6227;
  private static final long RSS_GROWTH_LIMIT_KB = 50 * 1024;

  private static WebNetwork net;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path root = RedirectorUnderTest.repositoryRoot();
    Path jar = root.resolve("router/target/hydranet.jar");
    Path hydraweb = root.resolve("hydraweb/target/hydraweb.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    assumeTrue(Files.exists(hydraweb), "hydraweb/target/hydraweb.jar is built by mvn package");
    for (String tool : List.of("hping3", "wrk", "python3")) {
      assumeTrue(onPath(tool), tool + " is installed by bin/setup");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    // Each daemon's heap is fixed and touched at start (-Xms = -Xmx, AlwaysPreTouch), as an
    // operator bounds a daemon's heap: then RSS growth is what the heap's sizing policy cannot
    // explain (threads, direct and native memory), and the heap itself cannot grow past -Xmx.
    // With the default policy a JVM under load grew its heap by 80-90 MB in some runs and not in
    // others, and the RSS bound below measured G1's sizing rather than a leak.
    net =
        new WebNetwork(
            "h5hos",
            List.of(
                java,
                "-Xms256m",
                "-Xmx256m",
                "-XX:+AlwaysPreTouch",
                "-XX:MaxDirectMemorySize=1g",
                "-jar",
                jar.toString()),
            0);
    Topology t = net.topology();
    t.namespace("attacker");
    t.link("attacker", "eth0", "lan", "x1");
    t.attach("lan", "x1", "br0");
    t.offloadsOff("lan", "x1");
    t.offloadsOff("attacker", "eth0");
    t.address("attacker", "eth0", ATTACKER + "/24");
    t.defaultRoute("attacker", R1);
    WebReplicas replicas = new WebReplicas(net, hydraweb);
    net.start(replicas.hostServerConfig());
    replicas.startManager(false);
    replicas.install();
  }

  @AfterAll
  static void stop() {
    if (net != null) {
      net.close();
    }
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", tool));
  }

  /** What the client saw while attacks ran. */
  private record Client(int requests, int failed, int notReplica, String why) {
    @Override
    public String toString() {
      return requests + " requests, " + failed + " failed, " + notReplica + " not from the replica";
    }
  }

  /**
   * The client fetches pages for {@code seconds}. Whether r1's table changed meanwhile is told by
   * its counters (every write counts), not by sampling it: {@code hydranet ctl} starts a JVM, and
   * at a load average of 35 that left the client three requests in 20 s.
   */
  private static Client client(int seconds) {
    int requests = 0;
    int failed = 0;
    int notReplica = 0;
    List<String> failures = new ArrayList<>();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    Random pages = new Random(22);
    while (System.nanoTime() < end) {
      String page = String.format("/page-%03d.html", pages.nextInt(100));
      ExecResult r = net.curl(page, 5);
      requests++;
      if (!r.ok()) {
        failed++;
        failures.add(page + ": " + r.describe());
      } else if (!r.stdout().contains("Server: HydraWeb")) {
        notReplica++;
        failures.add(page + ": answered by the origin");
      }
    }
    return new Client(requests, failed, notReplica, String.join("\n", failures));
  }

  /**
   * Forged control datagrams in hs1's name from hs1's address and port, TTL 255 (on this LAN an
   * attacker can send that too), shaped as tagged KEEPALIVEs with a fresh timestamp — the costliest
   * forgery for the redirector (a tag computed for each) — as fast as hping3 sends.
   */
  private static Process controlFlood(int seconds) throws IOException {
    Path forged = net.workDir().resolve("forged-keepalive.bin");
    Files.write(forged, forgedKeepalive());
    return net.topology()
        .spawn(
            "attacker",
            "timeout",
            "-s",
            "INT",
            Integer.toString(seconds),
            "hping3",
            "--udp",
            "--flood",
            "-q",
            "-a",
            HS1,
            "-s",
            "6226",
            "-k",
            "-p",
            "6226",
            "-t",
            "255",
            "-d",
            Long.toString(Files.size(forged)),
            "-E",
            forged.toString(),
            R1);
  }

  private static void assertNothingLost(Client c, long lostBefore, long writesBefore, String r1) {
    assertEquals(0, c.failed(), c.why());
    assertEquals(0, c.notReplica(), c.why());
    assertTrue(c.requests() >= 5, c.requests() + " client requests only");
    assertTrue(net.ctl("r1", "table").contains(HS1), "the service left r1's table");
    assertEquals(lostBefore, net.counter("r1", "host_servers_lost"), r1);
    assertEquals(writesBefore, net.counter("r1", "table_writes"), "r1's table was written");
  }

  /** Issue 22's second finding, alone: the forged flood no longer costs hs1 its place. */
  @Test
  @Order(1)
  void aSpoofedControlFloodDoesNotCostTheHostServerItsPlace() throws Exception {
    long lostBefore = net.counter("r1", "host_servers_lost");
    long writesBefore = net.counter("r1", "table_writes");
    long receivedBefore = net.counter("r1", "received");
    Process flood = controlFlood(15);
    Thread.sleep(1000);
    Client c = client(12);
    flood.waitFor();
    String r1 = net.ctl("r1", "counters");
    System.out.println("== hping3 (control flood alone)\n" + tail(net.topology().logOf(flood)));
    System.out.println("== r1 counters\n" + r1);
    System.out.printf(
        "control flood alone: r1 received %d datagrams in 15 s; client: %s%n",
        net.counter("r1", "received") - receivedBefore, c);
    assertNothingLost(c, lostBefore, writesBefore, r1);
    assertTrue(net.counter("r1", "refused_bad_tag") > 1000, r1);
  }

  @Test
  @Order(2)
  void nothingLegitimateIsLostWhileThreeAttacksRunAtOnce() throws Exception {
    Path work = net.workDir();
    // RSS first: each daemon's full GC (jcmd) stops it for a while on a loaded machine, and that
    // must not fall inside the window in which nothing may be lost.
    Map<String, Long> rssBefore = rss();
    System.out.println("RSS before (kB): " + rssBefore);
    net.await("r1 to hear hs1 after the GCs", () -> net.ctl("r1", "table").contains(HS1));
    Thread.sleep(2000);
    assertTrue(net.curl("/page-010.html", 5).stdout().contains("Server: HydraWeb"));
    long lostBefore = net.counter("r1", "host_servers_lost");
    long writesBefore = net.counter("r1", "table_writes");

    Topology t = net.topology();
    Process control = controlFlood(ATTACK_SECONDS);
    // Malformed HTTP requests to the replica, through the redirector, as fast as wrk goes.
    Path lua = work.resolve("malformed.lua");
    Files.writeString(lua, MALFORMED_LUA);
    Process http =
        t.spawn(
            "attacker",
            "wrk",
            "-t",
            "1",
            "-c",
            "32",
            "-d",
            ATTACK_SECONDS + "s",
            "--timeout",
            "5s",
            "-s",
            lua.toString(),
            "http://" + ORIGIN + "/");
    // Slow HELLOs: as many connections to the replica service as it takes, one byte each now
    // and then, reopened when closed; and the manager's probe, in the origin's namespace, 20 new
    // sessions while the attacks run. Needs the replica service's handshake deadline (issue 22,
    // item 1); -Dhostile.replicaService=false leaves both out.
    boolean replicaService =
        Boolean.parseBoolean(System.getProperty("hostile.replicaService", "true"));
    Process loris = null;
    CompletableFuture<ExecResult> probe = null;
    if (replicaService) {
      Path slow = work.resolve("slowloris.py");
      Files.writeString(slow, slowloris(HS1, REPLICA_PORT, 512, ATTACK_SECONDS));
      loris = t.spawn("attacker", "python3", slow.toString());
      String cp = System.getProperty("java.class.path");
      String java = ProcessHandle.current().info().command().orElse("java");
      Thread.sleep(2000); // the attacks at full strength first
      probe =
          CompletableFuture.supplyAsync(
              () ->
                  t.exec(
                      "origin",
                      Duration.ofSeconds(ATTACK_SECONDS + 60),
                      java,
                      "-cp",
                      cp,
                      ManagerProbe.class.getName(),
                      HS1,
                      Integer.toString(REPLICA_PORT),
                      WebNetwork.MANAGER,
                      net.keyDir().resolve("origin.key").toString(),
                      net.keyDir().resolve("hs1.pub").toString(),
                      "20",
                      "500"));
    } else {
      Thread.sleep(2000);
    }
    Client c = client(ATTACK_SECONDS - 5);
    ExecResult probed = probe == null ? null : probe.get();
    for (Process p : List.of(control, http)) {
      p.waitFor();
    }
    if (loris != null) {
      loris.waitFor();
    }
    String r1Counters = net.ctl("r1", "counters");
    String hs1Counters = net.ctl("hs1", "counters");
    String hs1Replicas = net.ctl("hs1", "replicas");
    long lostAfter = net.counter("r1", "host_servers_lost");
    long writesAfter = net.counter("r1", "table_writes");
    boolean inTable = net.ctl("r1", "table").contains(HS1);
    Map<String, Long> rssAfter = rss();
    System.out.println("== hping3 (control flood)\n" + tail(t.logOf(control)));
    System.out.println("== wrk (malformed HTTP)\n" + tail(t.logOf(http)));
    if (loris != null) {
      System.out.println("== slowloris (replica service)\n" + tail(t.logOf(loris)));
      System.out.println("== manager probe\n" + probed.stdout() + probed.stderr());
    }
    System.out.println("== r1 counters\n" + r1Counters);
    System.out.println("== hs1 counters\n" + hs1Counters);
    System.out.println(
        "== hs1 replicas (the replica service's refusals by reason)\n" + hs1Replicas);
    System.out.println("client: " + c);
    System.out.println("RSS after (kB): " + rssAfter);
    System.out.println("== manager's log, last lines\n" + tail(net.logsOf("manager")));

    assertEquals(0, c.failed(), c.why());
    assertEquals(0, c.notReplica(), c.why());
    assertTrue(c.requests() >= 5, c.requests() + " client requests only");
    assertTrue(inTable, "the service left r1's table");
    assertEquals(lostBefore, lostAfter, r1Counters);
    assertEquals(writesBefore, writesAfter, "r1's table was written");
    if (probed != null) {
      Matcher admitted = Pattern.compile("admitted (\\d+)/(\\d+)").matcher(probed.stdout());
      assertTrue(admitted.find(), probed.describe());
      assertEquals(
          admitted.group(2), admitted.group(1), "the manager was refused:\n" + probed.stdout());
    }
    // The attacks ran: the redirector refused forged datagrams, wrk sent requests.
    assertTrue(net.counter("r1", "refused_bad_tag") > 1000, r1Counters);
    assertTrue(t.logOf(http).contains("requests in"), t.logOf(http));
    for (Map.Entry<String, Long> e : rssBefore.entrySet()) {
      Long after = rssAfter.get(e.getKey());
      assertTrue(after != null, e.getKey() + " is gone");
      assertTrue(
          after - e.getValue() < RSS_GROWTH_LIMIT_KB,
          e.getKey() + " grew from " + e.getValue() + " to " + after + " kB");
    }
  }

  /** A KEEPALIVE in hs1's name, now, with a random signature and tag: what hping3 repeats. */
  private static byte[] forgedKeepalive() {
    long now = System.currentTimeMillis() * 1000;
    byte[] unsigned =
        Codec.encodeUnsigned(
            new Message(MessageType.KEEPALIVE, Addresses.parse(HS1), now, 1500, 0, List.of()));
    byte[] d = new byte[unsigned.length + Codec.SIGNATURE + 16];
    new Random(5082).nextBytes(d);
    System.arraycopy(unsigned, 0, d, 0, unsigned.length);
    return d;
  }

  /** Requests HydraWeb must refuse (400, 414, 431, 505, 405, 413), in turn. */
  private static final String MALFORMED_LUA =
      String.join(
          "\n",
          "local bad = {",
          "  \"GET /%zz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\",",
          "  \"GET / HTTP/9.9\\r\\nHost: x\\r\\n\\r\\n\",",
          "  \"GET /a/../b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\",",
          "  \"GET / HTTP/1.1\\r\\n\\r\\n\",",
          "  \"BREW /pot HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\",",
          "  \"GET / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\nhello\",",
          "  \"GET / HTTP/1.1\\r\\nHost: x\\r\\n folded\\r\\n\\r\\n\",",
          "  \"GET /\" .. string.rep(\"a\", 5000) .. \" HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\",",
          "  \"GET / HTTP/1.1\\r\\nHost: x\\r\\nX: \" .. string.rep(\"b\", 9000) .. \"\\r\\n\\r\\n\",",
          "  \"\\0\\1\\2\\3 garbage\\r\\n\\r\\n\",",
          "}",
          "local i = 0",
          "request = function()",
          "  i = i + 1",
          "  return bad[(i % #bad) + 1]",
          "end",
          "");

  /** Connections that each send one byte every two seconds, reopened when the server closes. */
  private static String slowloris(String host, int port, int connections, int seconds) {
    return String.join(
        "\n",
        "import socket, time",
        "HOST, PORT, N, END = '"
            + host
            + "', "
            + port
            + ", "
            + connections
            + ", time.time() + "
            + seconds,
        "socks, opened, refused, closed = [], 0, 0, 0",
        "def connect():",
        "    global opened, refused",
        "    try:",
        "        s = socket.create_connection((HOST, PORT), timeout=1)",
        "        s.setblocking(False); opened += 1; return s",
        "    except OSError:",
        "        refused += 1; return None",
        "while time.time() < END:",
        "    while len(socks) < N and time.time() < END:",
        "        s = connect()",
        "        if s is None: break",
        "        socks.append(s)",
        "    alive = []",
        "    for s in socks:",
        "        try:",
        "            s.send(b'\\x00'); alive.append(s)",
        "        except OSError:",
        "            closed += 1; s.close()",
        "    socks = alive",
        "    time.sleep(2)",
        "print(f'slowloris: {opened} connections opened, {refused} refused, {closed} closed by the"
            + " server, {len(socks)} open at the end')",
        "");
  }

  /**
   * RSS in kB of every daemon of the network: the redirector, the host server, the manager, and the
   * Java processes the host server started (the virtual host and the replica).
   */
  private static Map<String, Long> rss() throws IOException {
    Map<String, Long> raw = rss(false);
    Map<String, Long> out = rss(true);
    System.out.println("RSS as found (kB): " + raw + "; after a full GC of each: " + out);
    return out;
  }

  /**
   * RSS in kB of each daemon; with {@code gc}, after {@code jcmd PID GC.run}: the JVMs have no heap
   * limit, and what G1 has not yet collected says nothing about what a daemon keeps.
   */
  private static Map<String, Long> rss(boolean gc) throws IOException {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String d : List.of("r1", "hs1", "manager")) {
      out.put(d, rssKb(net.daemon(d).pid(), gc));
    }
    ProcessHandle.of(net.daemon("hs1").pid())
        .ifPresent(
            hs ->
                hs.descendants()
                    .forEach(
                        p -> {
                          String cmd = p.info().commandLine().orElse("");
                          String name =
                              cmd.contains(" vhost ")
                                  ? "vhost"
                                  : cmd.contains("bundle.jar") ? "replica" : null;
                          if (name != null && p.info().command().orElse("").endsWith("java")) {
                            try {
                              out.merge(name + "-" + p.pid(), rssKb(p.pid(), gc), Long::sum);
                            } catch (IOException e) {
                              // gone
                            }
                          }
                        }));
    return out;
  }

  private static long rssKb(long pid, boolean gc) throws IOException {
    if (gc) {
      Path jcmd =
          Path.of(ProcessHandle.current().info().command().orElse("java")).resolveSibling("jcmd");
      try {
        Process p =
            new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return rssKb(pid);
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for " + pid);
  }

  private static String tail(String log) {
    String[] lines = log.split("\n");
    return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 40), lines.length));
  }
}
