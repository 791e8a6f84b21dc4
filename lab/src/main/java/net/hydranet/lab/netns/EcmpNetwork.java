package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Redirectors side by side behind ECMP, announced by BGP: an upstream router running BIRD 2 learns
 * the origin's prefix from each redirector's own BIRD and installs it as one multipath route,
 * hashed on the 5-tuple ({@code fib_multipath_hash_policy=1}). Each redirector runs with {@code
 * --liveness-link hnlive}, and its BIRD announces the prefix through a static route via that link
 * ({@code config/bird/bird-redirector.conf}), so a redirector is in the route exactly while it
 * forwards.
 *
 * <pre>
 *                                  u1 .11.254 ── up0 [r1] core0 .2.1 ─┐
 *  client ── c0 [upstream, BIRD]   u2 .12.254 ── up0 [r2] core0 .2.2 ─┤ core 198.18.2.0/24
 *  .1.10     .1.254  AS 65000      u3 .13.254 ── up0 [r3] core0 .2.3 ─┤  origin .2.10 (:80, :5201)
 *                                  u4 .14.254 ── up0 [r4] core0 .2.4 ─┤  hs1 .2.21 (near replica)
 *                    core0 .2.254 ────────────────────────────────────┘  hs2 .2.22 (far replica)
 *                    198.18.2.10/32: nexthop r1, r2, r3 (and r4 once started)
 * </pre>
 *
 * Each redirector rN has up0 198.18.1N.1/24 facing the upstream's uN 198.18.1N.254/24, and core0
 * 198.18.2.N on the core segment. Replies do not pass the redirectors: the origin and the host
 * servers route back through the upstream's own leg on the core segment (its connected /24 loses to
 * the announced /32 for the origin's address), as GLB's and Katran's do. The origin serves HTTP on
 * port 80 and iperf3 on 5201; so does a replica of it on each host server, under {@code hydranet
 * vhost}. Which replicas the two services go to is the redirectors' static table, the same on every
 * redirector (listed in a different order: Maglev must not care), changed at run time by {@link
 * #serve}: none at first (the origin serves), then the far replica hs2 alone, then the near one hs1
 * with hs2 draining — the order in which a control plane installs a farther replica and then a
 * nearer one — so that connections live at all three. "Near" and "far" are the table's preference
 * here, not a distance: both host servers sit on the core segment. Every host server is reached in
 * the second-chance tunnel (GUE with a hop list, hostserver/SECOND-CHANCE.md), which is what lets a
 * connection that rehashes to another redirector find where it lives. All four redirectors' links
 * and BIRDs exist from the start; r4's redirector is started when a test adds it. Namespaces are
 * {@code <prefix>-client, -up, -r1…-r4, -core, -origin, -hs1, -hs2}.
 */
public final class EcmpNetwork extends NamespaceNetwork {
  public static final String CLIENT = "198.18.1.10";
  public static final String UPSTREAM_CLIENT_SIDE = "198.18.1.254";
  public static final String UPSTREAM_CORE_SIDE = "198.18.2.254";
  public static final String ORIGIN = "198.18.2.10";
  public static final String HS1 = "198.18.2.21";
  public static final String HS2 = "198.18.2.22";

  /** The near replica's host server, and the far one's. */
  public static final String NEAR = "hs1";

  public static final String FAR = "hs2";

  /** The two replicated services of the origin: HTTP, and an iperf3 server. */
  public static final int HTTP = 80;

  public static final int IPERF = 5201;

  /** One host server of the redirectors' table, with its weight (0: draining). */
  public record Replica(String address, int weight) {}

  /** The liveness link every redirector holds, in its own namespace. */
  public static final String LIVENESS_LINK = "hnlive";

  public static final int REDIRECTORS = 4;
  private static final String[] BIRD_PATHS = {"/usr/sbin/bird", "/usr/bin/bird", "/sbin/bird"};
  private static final Pattern NEXTHOP = Pattern.compile("via (198\\.18\\.1\\d\\.1) ");
  private static final Pattern MONITOR_LINE = Pattern.compile("^\\[([0-9T:.-]+)\\] (.*)$");

  private final String bird;
  private boolean gue = true;

  /**
   * Builds the namespaces, links and BIRD configs; {@link #start} starts the processes.
   *
   * @param hydranet how to run this hydranet (e.g. java -jar hydranet.jar)
   * @throws IllegalStateException if BIRD is not installed ({@link #bird()} says first)
   */
  public EcmpNetwork(String prefix, List<String> hydranet) throws IOException {
    super(prefix, hydranet, Duration.ofSeconds(180), 20);
    Optional<String> installed = bird();
    if (installed.isEmpty()) {
      net.close();
      throw new IllegalStateException("BIRD 2 is not installed (apt-get install bird2)");
    }
    this.bird = installed.get();
    build(this::wiring);
  }

  /**
   * The redirectors tunnel to both host servers in IP-in-IP, the default encapsulation, instead of
   * the second-chance tunnel (GUE with a hop list); before {@link #start}.
   */
  public EcmpNetwork ipInIp() throws IOException {
    gue = false;
    writeRedirectorConfigs(List.of());
    return this;
  }

  /** The BIRD daemon's path, if bird2 is installed. */
  public static Optional<String> bird() {
    for (String p : BIRD_PATHS) {
      if (Files.isExecutable(Path.of(p))) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The redirector {@code n}'s namespace name ({@code r1…r4}). */
  public static String redirector(int n) {
    return "r" + n;
  }

  /** Redirector {@code n}'s address towards the upstream: the next hop the upstream uses. */
  public static String upstreamAddress(int n) {
    return "198.18.1" + n + ".1";
  }

  /** The upstream's address towards redirector {@code n}. */
  static String upstreamSide(int n) {
    return "198.18.1" + n + ".254";
  }

  /** Redirector {@code n}'s address on the core segment. */
  static String coreAddress(int n) {
    return "198.18.2." + n;
  }

  private void wiring() throws IOException {
    List<String> names = new ArrayList<>(List.of("client", "up", "core", "origin", "hs1", "hs2"));
    for (int n = 1; n <= REDIRECTORS; n++) {
      names.add(redirector(n));
    }
    namespaces(names.toArray(new String[0]));
    List<Port> core = new ArrayList<>();
    for (int n = 1; n <= REDIRECTORS; n++) {
      core.add(port(redirector(n), "core0", "r" + n));
    }
    core.add(port("origin", "eth0", "o0"));
    core.add(port("hs1", "eth0", "h1"));
    core.add(port("hs2", "eth0", "h2"));
    core.add(port("up", "core0", "u0"));
    segment("core", core.toArray(new Port[0]));
    wire("client", "eth0", "up", "c0");
    host("client", CLIENT, UPSTREAM_CLIENT_SIDE);
    host("origin", ORIGIN, UPSTREAM_CORE_SIDE);
    host("hs1", HS1, UPSTREAM_CORE_SIDE);
    host("hs2", HS2, UPSTREAM_CORE_SIDE);

    net.address("up", "c0", UPSTREAM_CLIENT_SIDE + "/24");
    net.address("up", "core0", UPSTREAM_CORE_SIDE + "/24");
    for (int n = 1; n <= REDIRECTORS; n++) {
      String r = redirector(n);
      wire("up", "u" + n, r, "up0");
      net.address("up", "u" + n, upstreamSide(n) + "/24");
      redirector(r, "up0", upstreamAddress(n), "core0", coreAddress(n));
    }
    net.sysctl("up", "net.ipv4.ip_forward", "1");
    net.sysctl("up", "net.ipv4.fib_multipath_hash_policy", "1");
    // The origin's address is reached through the redirectors that announce it, or not at all: a
    // blackhole at a worse metric than BIRD's (32) stands in for "no route" once every redirector
    // is withdrawn. Without it the upstream's connected /24 on core0 takes over and delivers the
    // clients' packets straight to the origin, whose kernel resets every connection that lives at
    // a replica: seen once on a starved machine, when all three redirectors missed three liveness
    // probes during one reload of their table. With it those packets are dropped, and TCP
    // retransmits them once a redirector is back.
    ExecResult blackhole =
        net.exec("up", "ip", "route", "add", "blackhole", ORIGIN + "/32", "metric", "4000");
    if (!blackhole.ok()) {
      throw new IllegalStateException("upstream blackhole route: " + blackhole.describe());
    }
    // Replies from the origin arrive on core0, while the route back to it is the ECMP route.
    for (String i : List.of("all", "default", "c0", "core0", "u1", "u2", "u3", "u4")) {
      net.sysctl("up", "net.ipv4.conf." + i + ".rp_filter", "0");
    }
    write("up-bird.conf", EcmpConfigs.upstreamBird());
    for (int n = 1; n <= REDIRECTORS; n++) {
      write(redirector(n) + "-bird.conf", EcmpConfigs.redirectorBird(n));
    }
    writeRedirectorConfigs(List.of());
  }

  private void writeRedirectorConfigs(List<Replica> replicas) throws IOException {
    for (int n = 1; n <= REDIRECTORS; n++) {
      write(redirector(n) + ".yaml", EcmpConfigs.redirectorConfig(n, replicas, gue));
    }
  }

  /**
   * Makes {@code replicas} the host servers of the origin's ports 80 and 5201 (none: the origin
   * serves them) on every redirector, running or not, and waits until each running one has applied
   * the change (it re-reads its config when the file changes).
   */
  public void serve(List<Replica> replicas) throws IOException, InterruptedException {
    Map<Integer, Long> before = new LinkedHashMap<>();
    for (int n = 1; n <= REDIRECTORS; n++) {
      if (daemons.containsKey(redirector(n))) {
        before.put(n, reloads(n));
      }
    }
    writeRedirectorConfigs(replicas);
    for (var e : before.entrySet()) {
      await(
          redirector(e.getKey()) + " to apply the table " + replicas,
          () -> reloads(e.getKey()) > e.getValue());
    }
  }

  /** How many times redirector n has applied a changed config, by its log. */
  private long reloads(int n) {
    Process p = daemons.get(redirector(n));
    return p == null
        ? 0
        : processLog(p).lines().filter(l -> l.contains("redirects applied")).count();
  }

  /**
   * Starts the origin's web and iperf3 servers, every BIRD, the host servers and their replicas,
   * and redirectors 1 to {@code redirectors} with no replica in their table; waits until the
   * upstream's route has one next hop per running redirector and the origin answers the client.
   */
  public EcmpNetwork start(int redirectors) throws IOException, InterruptedException {
    webServer("origin", ORIGIN, HTTP, "origin", body("origin"));
    net.spawn("origin", "iperf3", "-s", "-B", ORIGIN, "-p", Integer.toString(IPERF));
    startBird("up");
    for (int n = 1; n <= REDIRECTORS; n++) {
      startBird(redirector(n));
    }
    startHostServer(NEAR, HS1, stateDir(NEAR), false, "off");
    startHostServer(FAR, HS2, stateDir(FAR), false, "off");
    for (int n = 1; n <= redirectors; n++) {
      startRedirector(n);
    }
    for (String hs : List.of(NEAR, FAR)) {
      installReplica(hs);
    }
    awaitStart(
        "the upstream to route " + ORIGIN + " over " + redirectors + " redirectors",
        () -> nexthops().size() == redirectors);
    awaitStart("the origin to answer the client", () -> curl(HTTP).stdout().equals(body("origin")));
    return this;
  }

  /**
   * The replica on host server {@code hs}: a web server whose index is {@link #body}(hs), and an
   * iperf3 server, in one virtual host of the origin.
   */
  private void installReplica(String hs) throws IOException, InterruptedException {
    String web =
        String.join(" ", webServerCommand(ORIGIN, HTTP, site(hs + "-" + ORIGIN, body(hs))));
    String iperf = "iperf3 -s -B " + ORIGIN + " -p " + IPERF;
    vhost(hs, stateDir(hs), ORIGIN, "tcp " + IPERF, "sh", "-c", web + " & exec " + iperf);
    Path published = stateDir(hs).resolve("vhosts").resolve(ORIGIN + ".vhost");
    await(
        "the virtual host " + ORIGIN + " on " + hs + " to bind tcp " + HTTP,
        () -> read(published).contains("tcp " + HTTP));
  }

  /** The index each server answers: "ORIGIN 198.18.2.10", "REPLICA hs1"…, one line. */
  public static String body(String server) {
    return server.equals("origin") ? "ORIGIN " + ORIGIN + "\n" : "REPLICA " + server + "\n";
  }

  private void startBird(String ns) {
    Process p =
        net.spawn(
            ns,
            bird,
            "-f",
            "-c",
            work.resolve(ns + "-bird.conf").toString(),
            "-s",
            birdSocket(ns).toString(),
            "-P",
            work.resolve(ns + "-bird.pid").toString());
    daemons.put(ns + "-bird", p);
  }

  private Path birdSocket(String ns) {
    return work.resolve(ns + "-bird.ctl");
  }

  /** {@code birdc COMMAND…} against the BIRD of namespace {@code ns} ("up", "r1"…). */
  public ExecResult birdc(String ns, String... command) {
    List<String> argv = new ArrayList<>(List.of(bird + "c", "-s", birdSocket(ns).toString()));
    argv.addAll(List.of(command));
    return net.exec(ns, argv.toArray(new String[0]));
  }

  /** Starts redirector n with its liveness link; returns at once (the JVM takes a moment). */
  public Process startRedirector(int n) {
    String r = redirector(n);
    Process p =
        spawnHydranet(
            r,
            "redirector",
            "--config",
            work.resolve(r + ".yaml").toString(),
            "--ctl-socket",
            ctlPath(r).toString(),
            "--metrics",
            "off",
            "--liveness-link",
            LIVENESS_LINK);
    daemons.put(r, p);
    return p;
  }

  /**
   * SIGKILL to redirector n: a crash, no hook runs.
   *
   * @return the wall-clock time (epoch ms) just before the signal was sent
   */
  public long killRedirector(int n) throws InterruptedException {
    Process p = daemons.remove(redirector(n));
    if (p == null) {
      throw new IllegalStateException(redirector(n) + " is not running");
    }
    long at = System.currentTimeMillis();
    p.destroyForcibly();
    p.waitFor();
    try {
      Files.deleteIfExists(ctlPath(redirector(n)));
    } catch (IOException e) {
      // a stale socket path is replaced on the next start
    }
    return at;
  }

  /**
   * SIGTERM to redirector n: it removes its liveness link, forwards a moment more, then drains;
   * returns at once.
   *
   * @return the wall-clock time (epoch ms) just before the signal was sent
   */
  public long terminateRedirector(int n) {
    Process p = daemons.remove(redirector(n));
    if (p == null) {
      throw new IllegalStateException(redirector(n) + " is not running");
    }
    long at = System.currentTimeMillis();
    p.destroy();
    return at;
  }

  /** The upstream's next hops for the origin's address now: the redirectors' up0 addresses. */
  public List<String> nexthops() {
    ExecResult r = net.exec("up", "ip", "route", "show", ORIGIN + "/32");
    return nexthopsIn(r.stdout());
  }

  /** Next hops named in {@code ip route} text. */
  static List<String> nexthopsIn(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = NEXTHOP.matcher(text + " ");
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** Starts {@code ip -ts monitor route} on the upstream: each route change, time-stamped. */
  public Process monitorRoutes() {
    return net.spawn("up", "ip", "-ts", "monitor", "route");
  }

  /** One change of the origin's route as the upstream's kernel reported it. */
  public record RouteChange(long epochMillis, List<String> nexthops, boolean deleted) {}

  /**
   * The changes of the origin's route in a {@link #monitorRoutes} log so far: a line "[time] ROUTE"
   * then, for a multipath route, one "nexthop via …" line per next hop.
   */
  public List<RouteChange> routeChanges(Process monitor) {
    return routeChangesIn(processLog(monitor));
  }

  /** The changes of the origin's route in the text {@code ip -ts monitor route} printed. */
  static List<RouteChange> routeChangesIn(String log) {
    List<RouteChange> out = new ArrayList<>();
    long at = -1;
    boolean deleted = false;
    StringBuilder text = null;
    for (String line : (log + "\n[end] ").split("\n")) {
      Matcher m = MONITOR_LINE.matcher(line);
      if (m.matches() || line.startsWith("[end]")) {
        if (text != null) {
          out.add(new RouteChange(at, nexthopsIn(text.toString()), deleted));
          text = null;
        }
        if (m.matches() && isOriginRoute(m.group(2))) {
          at =
              LocalDateTime.parse(m.group(1))
                  .atZone(ZoneId.systemDefault())
                  .toInstant()
                  .toEpochMilli();
          deleted = m.group(2).startsWith("Deleted");
          text = new StringBuilder(m.group(2)).append(' ');
        }
      } else if (text != null) {
        text.append(line).append(' ');
      }
    }
    return out;
  }

  private static boolean isOriginRoute(String route) {
    String r = route.startsWith("Deleted ") ? route.substring(8) : route;
    return r.startsWith(ORIGIN + " ") || r.startsWith(ORIGIN + "/32 ");
  }

  /** curl from the client to http://ORIGIN:port/. */
  public ExecResult curl(int port) {
    return net.exec(
        "client",
        Duration.ofSeconds(8),
        "curl",
        "-s",
        "-m",
        "5",
        "http://" + ORIGIN + ":" + port + "/");
  }

  /**
   * Starts {@code count} keep-alive HTTP/1.1 connections from the client to the origin's {@code
   * port}, each sending a GET every 100 ms (each answered within {@code timeoutSeconds}) until
   * {@code stop} exists. Prints "OPEN i FIRSTLINE" once each is answered; "BROKEN i LAST_OK FAILED
   * ERROR" for each that fails (epoch ms of its last answer and of the failure; that connection
   * then ends); and at the end "ALIVE n" (connections answered to the end), "CHANGED n"
   * (connections answered by more than one server) and "SERVED n FIRSTLINE" per server.
   */
  public Process keepAlive(int port, int count, int timeoutSeconds, Path stop) throws IOException {
    Path script =
        script(
            "keepalive-many.py",
            "import collections, http.client, os, sys, threading, time",
            "host, port, count, timeout, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),"
                + " float(sys.argv[4]), sys.argv[5]",
            "alive = [False] * count",
            "servers = [set() for _ in range(count)]",
            "lock = threading.Lock()",
            "def ms():",
            "    return int(time.time() * 1000)",
            "def run(i):",
            "    last = ms()",
            "    try:",
            "        c = http.client.HTTPConnection(host, port, timeout=timeout)",
            "        first = True",
            "        while not os.path.exists(stop):",
            "            c.request('GET', '/')",
            "            r = c.getresponse()",
            "            line = r.read().decode().splitlines()[0]",
            "            last = ms()",
            "            servers[i].add(line)",
            "            if first:",
            "                with lock:",
            "                    print('OPEN', i, line, flush=True)",
            "                first = False",
            "            time.sleep(0.1)",
            "        alive[i] = True",
            "    except Exception as e:",
            "        with lock:",
            "            print('BROKEN', i, last, ms(), repr(e), flush=True)",
            "threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]",
            "for t in threads:",
            "    t.start()",
            "for t in threads:",
            "    t.join()",
            "print('ALIVE', sum(alive), flush=True)",
            "print('CHANGED', sum(1 for s in servers if len(s) > 1), flush=True)",
            "served = collections.Counter(x for s in servers for x in s)",
            "for line, n in sorted(served.items()):",
            "    print('SERVED', n, line, flush=True)");
    return net.spawn(
        "client",
        "python3",
        "-u",
        script.toString(),
        ORIGIN,
        Integer.toString(port),
        Integer.toString(count),
        Integer.toString(timeoutSeconds),
        stop.toString());
  }

  /**
   * Starts an iperf3 stream from the client to the origin's port 5201 at {@code megabits} Mbit/s,
   * one line a second, for at most {@code seconds}; it gives up on a connection that has had data
   * unacknowledged for 20 s ({@code --snd-timeout}), so a stream cut off ends rather than stalls.
   */
  public Process iperf(int megabits, int seconds) {
    return net.spawn(
        "client",
        "iperf3",
        "-c",
        ORIGIN,
        "-p",
        Integer.toString(IPERF),
        "-b",
        megabits + "M",
        "-t",
        Integer.toString(seconds),
        "-i",
        "1",
        "--forceflush",
        "--connect-timeout",
        "5000",
        "--snd-timeout",
        "20000");
  }

  /**
   * What an iperf3 client has printed so far: its rate in each one-second interval, and its error.
   */
  public record Stream(List<Double> mbps, String error) {
    /** Whether it still sends: no error, and data in each of the last {@code n} intervals. */
    public boolean flowing(int n) {
      if (!error.isEmpty() || mbps.size() < n) {
        return false;
      }
      for (double r : mbps.subList(mbps.size() - n, mbps.size())) {
        if (r <= 0) {
          return false;
        }
      }
      return true;
    }

    /** The longest run of intervals without data, in seconds. */
    public int longestStall() {
      int longest = 0;
      int run = 0;
      for (double r : mbps) {
        run = r <= 0 ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      return longest;
    }
  }

  private static final Pattern IPERF_INTERVAL =
      Pattern.compile(
          "^\\[\\s*\\d+\\]\\s+[\\d.]+-[\\d.]+\\s+sec\\s+[\\d.]+\\s+\\w*Bytes\\s+([\\d.]+)\\s+(\\w?)bits/sec.*");

  /**
   * The stream an iperf3 client's text output describes: one rate per interval line (the summary
   * lines, which end "sender" or "receiver", are not intervals), and its "iperf3: error" line, if
   * any.
   */
  public static Stream iperfStream(String log) {
    List<Double> mbps = new ArrayList<>();
    String error = "";
    for (String line : log.split("\n")) {
      Matcher m = IPERF_INTERVAL.matcher(line.strip());
      if (m.matches() && !line.contains("sender") && !line.contains("receiver")) {
        double scale =
            switch (m.group(2)) {
              case "G" -> 1000;
              case "M" -> 1;
              case "K" -> 0.001;
              default -> 0.000001;
            };
        mbps.add(Double.parseDouble(m.group(1)) * scale);
      } else if (line.startsWith("iperf3: error")) {
        error = line.strip();
      }
    }
    return new Stream(mbps, error);
  }

  /**
   * {@code count} short HTTP/1.0 connections from the client to the origin's {@code port}, one
   * after another, each from a new source port (a new flow for the ECMP hash); prints one line per
   * connection, its answer's first line or "FAILED error".
   */
  public ExecResult shortConnections(int port, int count) throws IOException {
    Path script =
        script(
            "short.py",
            "import socket, sys",
            "host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])",
            "for i in range(count):",
            "    try:",
            "        c = socket.create_connection((host, port), timeout=3)",
            "        c.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')",
            "        data = b''",
            "        while True:",
            "            b = c.recv(4096)",
            "            if not b:",
            "                break",
            "            data += b",
            "        c.close()",
            "        print(data.split(b'\\r\\n\\r\\n', 1)[-1].decode().splitlines()[0], flush=True)",
            "    except Exception as e:",
            "        print('FAILED', repr(e), flush=True)");
    return net.exec(
        "client",
        Duration.ofSeconds(30 + count / 5),
        "python3",
        script.toString(),
        ORIGIN,
        Integer.toString(port),
        Integer.toString(count));
  }
}
