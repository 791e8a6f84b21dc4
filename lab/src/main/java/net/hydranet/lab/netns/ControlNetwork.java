package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import net.hydranet.control.auth.Keys;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.BundleBuilder;
import net.hydranet.replica.Resources;

/**
 * Two redirectors in a chain and two host servers at different distances, all configured by the
 * control plane alone (no static redirect anywhere): the topology of the control-plane system tests
 * and of {@code hydranet demo}'s failover step.
 *
 * <pre>
 *  client .1.10 ─┐                          core 198.18.2.0/24
 *  hs1    .1.20 ─┼─ lan ─ client0 [r1] core0 ─┬─ origin .2.10 (:80)
 *                   .1.1              .2.1    └─ core0 [r2] far0 ── hs2 .3.20
 *                                                 .2.2     .3.1
 * </pre>
 *
 * r1 hears hs1 directly (distance 1) and hs2 through r2 (distance 1 + 1); so hs1 is nearer for r1.
 * Namespaces are {@code <prefix>-lan, -core, -client, -r1, -r2, -origin, -hs1, -hs2}.
 *
 * <p>Dual-stack (issue 21): each segment has its IPv6 twin in 2001:2::/48 — lan 2001:2:0:1::/64,
 * core 2001:2:0:2::/64, far 2001:2:0:3::/64 — and every node the same last part there (the client
 * 2001:2:0:1::10, hs2 2001:2:0:3::20, the origin {@link #ORIGIN6} 2001:2:0:2::10; r1 ::1 on both of
 * its links, r2 2001:2:0:2::2 and 2001:2:0:3::1). The redirectors route IPv6 too, and both trust
 * the host servers with the IPv6 origin; the control plane itself stays on IPv4 (IPV6.md §1).
 */
public final class ControlNetwork extends NamespaceNetwork {
  public static final String CLIENT = "198.18.1.10";
  public static final String R1 = "198.18.1.1";
  public static final String R1_CORE = "198.18.2.1";
  public static final String R2 = "198.18.2.2";
  public static final String R2_FAR = "198.18.3.1";
  public static final String HS1 = "198.18.1.20";
  public static final String HS2 = "198.18.3.20";
  public static final String ORIGIN = "198.18.2.10";
  public static final String CLIENT6 = "2001:2:0:1::10";
  public static final String R1_6 = "2001:2:0:1::1";
  public static final String R1_CORE6 = "2001:2:0:2::1";
  public static final String R2_6 = "2001:2:0:2::2";
  public static final String R2_FAR6 = "2001:2:0:3::1";
  public static final String HS1_6 = "2001:2:0:1::20";
  public static final String HS2_6 = "2001:2:0:3::20";
  public static final String ORIGIN6 = "2001:2:0:2::10";

  /**
   * The origin's replica manager (an operator's {@code hydranet replica}) speaks from this address
   * on the origin's box: one of its own, not the one its replicas serve (REPLICAS.md).
   */
  public static final String MANAGER = "198.18.2.5";

  /** What each host server grants the origin's replicas; {@link #bundle} asks for less. */
  private static final String GRANT = "memory: 256m, cpus: 1.0, pids: 128, files: 1024";

  private boolean gue;
  private boolean replicaService;
  private Path bundle;

  public ControlNetwork(String prefix, List<String> hydranet) throws IOException {
    this(prefix, hydranet, Duration.ofSeconds(30));
  }

  /** As above, waiting up to {@code wait} for each step (daemons starting on a loaded machine). */
  public ControlNetwork(String prefix, List<String> hydranet, Duration wait) throws IOException {
    super(prefix, hydranet, wait, 50);
    build(
        () -> {
          wiring();
          keys("r1", "r2", "hs1", "hs2", "stranger", "origin");
        });
  }

  private void wiring() {
    namespaces("lan", "core", "client", "r1", "r2", "origin", "hs1", "hs2");
    segment(
        "lan",
        port("client", "eth0", "c0"),
        port("hs1", "eth0", "h1"),
        port("r1", "client0", "r1"));
    segment(
        "core", port("r1", "core0", "r1"), port("r2", "core0", "r2"), port("origin", "eth0", "o0"));
    wire("r2", "far0", "hs2", "eth0");
    host("client", CLIENT, R1);
    host("hs1", HS1, R1);
    host("hs2", HS2, R2_FAR);
    host("origin", ORIGIN, R1_CORE);
    redirector("r1", "client0", R1, "core0", R1_CORE);
    redirector("r2", "core0", R2, "far0", R2_FAR);
    net.route("r1", "198.18.3.0/24", R2);
    net.route("r2", "198.18.1.0/24", R1_CORE);
    for (String hs : List.of("client", "hs1", "hs2", "origin")) {
      // A link set down and up again (link()) keeps its IPv6 address, as its IPv4 one.
      net.sysctl(hs, "net.ipv6.conf.eth0.keep_addr_on_down", "1");
    }
    host6("client", CLIENT6, R1_6);
    host6("hs1", HS1_6, R1_6);
    host6("hs2", HS2_6, R2_FAR6);
    host6("origin", ORIGIN6, R1_CORE6);
    redirector6("r1", "client0", R1_6, "core0", R1_CORE6);
    redirector6("r2", "core0", R2_6, "far0", R2_FAR6);
  }

  /**
   * Both redirectors send to both host servers in the second-chance tunnel (GUE with a hop list:
   * hostserver/SECOND-CHANCE.md), so a host server without the socket can pass a segment on to the
   * other replica, not only back to the origin; before {@link #start}.
   */
  public ControlNetwork secondChanceTunnel() {
    gue = true;
    return this;
  }

  /**
   * Both host servers run the replica service (REPLICAS.md) for the origin, whose manager speaks
   * from {@link #MANAGER}; replicas are then installed and removed as an operator would, with
   * {@code hydranet replica} ({@link #installReplica}, {@link #removeReplica}). Before {@link
   * #start}.
   */
  public ControlNetwork replicaService() {
    replicaService = true;
    return this;
  }

  /** Writes the configs, starts the origin's web server and both redirectors. */
  public ControlNetwork start(int hostServerHoldMillis) throws IOException, InterruptedException {
    if (replicaService) {
      net.address("origin", "eth0", MANAGER + "/24");
      // A replica runs as its own user, and its JVM opens bundle.jar by its absolute path, which
      // passes through the work directory (made 0700): it must be searchable, not readable.
      Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    }
    webServer("origin", ORIGIN, 80, "origin", "ORIGIN " + ORIGIN + "\n");
    writeRedirectorConfigs();
    startRedirector("r1");
    startRedirector("r2");
    startHostServer("hs1", hostServerHoldMillis);
    startHostServer("hs2", hostServerHoldMillis);
    awaitStart("the origin to answer through r1", () -> curl(2).ok());
    awaitStart("r1 to hear hs1", () -> ctl("r1", "peers").contains(HS1 + " "));
    awaitStart("r2 to hear hs2", () -> ctl("r2", "peers").contains(HS2 + " "));
    awaitStart("r1 and r2 to hear each other", () -> ctl("r1", "peers").contains(R2 + " "));
    return this;
  }

  private void writeRedirectorConfigs() throws IOException {
    write(
        "r1.yaml",
        redirectorConfig("client0", R1, R1_6, "core0", R1_CORE, R1_CORE6, "3", R2, R2_6));
    write(
        "r2.yaml",
        redirectorConfig("core0", R2, R2_6, "far0", R2_FAR, R2_FAR6, "1", R1_CORE, R1_CORE6));
    write("r1-control.yaml", redirectorControl(R1, "r1", HS1, "hs1", R2, "r2"));
    write("r2-control.yaml", redirectorControl(R2, "r2", HS2, "hs2", R1, "r1"));
  }

  /** Both families: the segment {@code net} (1 or 3) is reached via {@code via} / {@code via6}. */
  private String redirectorConfig(
      String ifA,
      String addressA,
      String address6A,
      String ifB,
      String addressB,
      String address6B,
      String net,
      String via,
      String via6) {
    return String.format(
        "interfaces:%n"
            + "  - { name: %s, address: %s/24, address6: \"%s/64\" }%n"
            + "  - { name: %s, address: %s/24, address6: \"%s/64\" }%n"
            + "routes:%n"
            + "  - { prefix: 198.18.%s.0/24, via: %s }%n"
            + "  - { prefix: \"2001:2:0:%s::/64\", via: \"%s\" }%n"
            + "redirects: []%n%s",
        ifA,
        addressA,
        address6A,
        ifB,
        addressB,
        address6B,
        net,
        via,
        net,
        via6,
        gue ? String.format("options:%n  gueHostServers: [ %s, %s ]%n", HS1, HS2) : "");
  }

  /** A redirector that hears one host server and one other redirector, each at cost 1. */
  private static String redirectorControl(
      String self, String key, String hs, String hsKey, String peer, String peerKey) {
    return String.format(
        "address: %s%nkey: keys/%s.key%nholdMillis: 1500%ndampingHalfLifeSeconds: 2%n"
            + "hostServers:%n  - { address: %s, key: keys/%s.pub, cost: 1 }%n"
            + "redirectors:%n  - { address: %s, key: keys/%s.pub, cost: 1 }%n"
            + "authorise:%n  - { origins: %s/32, hostServers: [%s, %s] }%n"
            + "  - { origins: \"%s/128\", hostServers: [%s, %s] }%n",
        self, key, hs, hsKey, peer, peerKey, ORIGIN, HS1, HS2, ORIGIN6, HS1, HS2);
  }

  /**
   * One node, one id: r1 is 198.18.1.1 and r2 is 198.18.2.2 to everyone, and each binds its control
   * socket to that address alone; r1's datagrams to r2 leave by core0 with source 198.18.1.1.
   */
  private void writeHostServerConfig(String hs, int holdMillis) throws IOException {
    String redirector = hs.equals("hs1") ? "r1" : "r2";
    write(
        hs + "-control.yaml",
        String.format(
            "address: %s%nkey: keys/%s.key%nholdMillis: %d%ndrainSeconds: 1%n"
                + "redirectors:%n  - { address: %s, key: keys/%s.pub }%n%s",
            address(hs),
            hs,
            holdMillis,
            hs.equals("hs1") ? R1 : R2,
            redirector,
            replicaService ? replicasSection(hs) : ""));
  }

  /**
   * The replica service's section of a host server's control file: the origin's manager and key,
   * and what one replica may use. Each host server has its own cgroup parent and uid range, named
   * by this network's prefix: networks side by side on one kernel must not share them (removing
   * one's replica would signal another's namesake).
   */
  private String replicasSection(String hs) {
    return String.format(
        "replicas:%n  firstUid: %d%n  cgroupParent: hydranet-%s-%s%n  origins:%n"
            + "    - { manager: %s, key: keys/origin.pub, addresses: %s/32, %s, maxReplicas: 2 }%n",
        hs.equals("hs1") ? 63_000 : 63_100, net.prefix(), hs, MANAGER, ORIGIN, GRANT);
  }

  /**
   * The bundle of {@link HitlessReplica} for the origin, signed with the origin's key ({@code
   * hydranet bundle sign} does the same): the class alone in a jar, asking 128 MiB, half a core, 64
   * tasks and 256 files.
   */
  private Path bundle() throws IOException {
    if (bundle == null) {
      String resource = HitlessReplica.class.getName().replace('.', '/') + ".class";
      java.io.ByteArrayOutputStream jar = new java.io.ByteArrayOutputStream();
      try (var in = HitlessReplica.class.getClassLoader().getResourceAsStream(resource);
          var out = new java.util.jar.JarOutputStream(jar)) {
        if (in == null) {
          throw new IOException("no " + resource + " on the class path");
        }
        out.putNextEntry(new java.util.jar.JarEntry(resource));
        in.transferTo(out);
        out.closeEntry();
      }
      byte[] bytes =
          BundleBuilder.build(
              jar.toByteArray(),
              new BundleBuilder.Declaration(
                  HitlessReplica.class.getName(),
                  ORIGIN,
                  List.of("tcp/80", "tcp/5201"),
                  null,
                  new Resources(128L << 20, 500, 64, 256)));
      bundle = work.resolve("hitless-replica.jar");
      Files.write(bundle, bytes);
      byte[] sig = Bundle.sign(bytes, Keys.readPrivate(keyDir().resolve("origin.key")));
      Files.writeString(
          bundle.resolveSibling("hitless-replica.jar.sig"),
          java.util.Base64.getEncoder().encodeToString(sig));
    }
    return bundle;
  }

  /**
   * {@code hydranet replica ACTION … ARGS} against host server {@code hs}, as the origin's manager
   * on the origin's box: the operator's command line.
   */
  private String[] replicaCommand(String hs, String action, String... args) {
    List<String> argv =
        new java.util.ArrayList<>(
            hydranet(
                "replica",
                action,
                "--host-server",
                address(hs),
                "--host-server-key",
                keyDir().resolve(hs + ".pub").toString(),
                "--key",
                keyDir().resolve("origin.key").toString(),
                "--address",
                MANAGER));
    argv.addAll(List.of(args));
    return argv.toArray(new String[0]);
  }

  /**
   * Installs the {@link HitlessReplica} bundle as replica {@code name} on {@code hs} with {@code
   * hydranet replica install}, and waits until its virtual host publishes both its ports (the host
   * server announces them from then on). The replica answers {@code REPLICA name}.
   */
  public void installReplica(String hs, String name) throws IOException, InterruptedException {
    Path jar = bundle();
    ExecResult r =
        net.exec(
            "origin", Duration.ofSeconds(90), replicaCommand(hs, "install", name, jar.toString()));
    if (!r.ok() || r.stdout().lines().noneMatch(l -> l.startsWith("OK"))) {
      throw new IllegalStateException(
          "hydranet replica install " + name + ": " + r.describe() + "\n" + logs());
    }
    Path published = stateDir(hs).resolve("vhosts").resolve(ORIGIN + ".vhost");
    try {
      await(
          "replica " + name + " on " + hs + " to listen on tcp 80 and tcp 5201",
          () -> {
            String ports = read(published);
            return ports.contains("tcp 80") && ports.contains("tcp 5201");
          });
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          e.getMessage()
              + "\npublished: "
              + read(published)
              + "\nreplica log:\n"
              + read(stateDir(hs).resolve("replicas").resolve(name + ".log"))
              + "\n"
              + logs(),
          e);
    }
  }

  /**
   * Starts {@code hydranet replica remove --drain-ms DRAIN NAME} against {@code hs}: the host
   * server announces the replica's services at weight 0 for the drain, then stops it and withdraws
   * them; the returned process ends with the host server's answer ({@link #processLog} has it).
   */
  public Process removeReplica(String hs, String name, long drainMillis) {
    return net.spawn(
        "origin", replicaCommand(hs, "remove", "--drain-ms", Long.toString(drainMillis), name));
  }

  public void startRedirector(String r) {
    startControlledRedirector(r, "off");
  }

  /** Starts (or restarts) a host server whose messages carry {@code holdMillis}. */
  public void startHostServer(String hs, int holdMillis) throws IOException {
    writeHostServerConfig(hs, holdMillis);
    startControlledHostServer(hs, address(hs), stateDir(hs), "off");
  }

  /** SIGTERM: a graceful stop (a host server drains first); returns the process to wait for. */
  public Process terminate(String daemon) {
    Process p = daemons.remove(daemon);
    if (p != null) {
      p.destroy();
    }
    return p;
  }

  /** SIGKILL: no drain, no goodbye — a crash. */
  public void kill(String daemon) throws InterruptedException {
    Process p = daemons.remove(daemon);
    if (p != null) {
      p.destroyForcibly();
      p.waitFor();
    }
    try {
      Files.deleteIfExists(ctlPath(daemon));
    } catch (IOException e) {
      // a stale socket path is replaced on the next start
    }
  }

  /** Sets a host server's only link down or up. */
  public void link(String hs, boolean up) {
    net.exec(hs, "ip", "link", "set", "eth0", up ? "up" : "down");
    if (up) {
      net.exec(hs, "ip", "route", "replace", "default", "via", hs.equals("hs1") ? R1 : R2_FAR);
      net.exec(
          hs, "ip", "-6", "route", "replace", "default", "via", hs.equals("hs1") ? R1_6 : R2_FAR6);
    }
  }

  /**
   * Runs a web and a UDP replica of the origin on {@code hs} under one {@code hydranet vhost} (one
   * virtual host per origin): the web server's index is {@code body}, and every datagram to the
   * origin's {@code udpPort} is answered with {@code reply} (no quote in it).
   */
  public Process installWebAndUdpReplica(
      String hs, String origin, String body, int udpPort, String reply)
      throws IOException, InterruptedException {
    Path script =
        script(
            "udp-reply.py",
            "import socket, sys",
            "f = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET",
            "s = socket.socket(f, socket.SOCK_DGRAM)",
            "s.bind((sys.argv[1], int(sys.argv[2])))",
            "while True:",
            "    data, peer = s.recvfrom(2048)",
            "    s.sendto(sys.argv[3].encode(), peer)");
    String web = String.join(" ", webServerCommand(origin, 80, site(hs + "-" + origin, body)));
    String udp = "python3 " + script + " " + origin + " " + udpPort + " '" + reply + "'";
    Process p =
        vhost(hs, stateDir(hs), origin, "udp " + udpPort, "sh", "-c", web + " & exec " + udp);
    Path published = stateDir(hs).resolve("vhosts").resolve(origin + ".vhost");
    await(
        "the virtual host " + origin + " on " + hs + " to bind tcp 80",
        () -> {
          try {
            return Files.readString(published).contains("tcp 80");
          } catch (IOException e) {
            return false;
          }
        });
    return p;
  }

  /**
   * Starts a UDP client on the client: one flow (source port {@code sourcePort}) to the origin's
   * {@code port}, a datagram every 20 ms; each answer is logged as "REPLY EPOCH-MS TEXT", until
   * {@code stop} exists (at most 60 s).
   */
  public Process udpClient(int sourcePort, int port, Path stop) throws IOException {
    return udpClient(ORIGIN, sourcePort, port, stop);
  }

  /** {@link #udpClient(int, int, Path)} to {@code origin}, {@link #ORIGIN} or {@link #ORIGIN6}. */
  public Process udpClient(String origin, int sourcePort, int port, Path stop) throws IOException {
    Path script =
        script(
            "udp-client.py",
            "import os, socket, sys, threading, time",
            "v6 = ':' in sys.argv[1]",
            "s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)",
            "s.bind(('::' if v6 else '0.0.0.0', int(sys.argv[2])))",
            "def receive():",
            "    while True:",
            "        data, _ = s.recvfrom(2048)",
            "        print('REPLY', int(time.time() * 1000), data.decode(), flush=True)",
            "threading.Thread(target=receive, daemon=True).start()",
            "deadline = time.time() + 60",
            "while not os.path.exists(sys.argv[4]) and time.time() < deadline:",
            "    s.sendto(b'ping', (sys.argv[1], int(sys.argv[3])))",
            "    time.sleep(0.02)",
            "print('DONE', flush=True)");
    return net.spawn(
        "client",
        "python3",
        "-u",
        script.toString(),
        origin,
        Integer.toString(sourcePort),
        Integer.toString(port),
        stop.toString());
  }

  /** One HTTP GET from the client to the origin's port 80, with a total time limit. */
  public ExecResult curl(double maxSeconds) {
    return curl(ORIGIN, maxSeconds);
  }

  /** {@link #curl(double)} to {@code origin}: {@code curl -6} to {@link #ORIGIN6}. */
  public ExecResult curl(String origin, double maxSeconds) {
    boolean v6 = origin.indexOf(':') >= 0;
    return net.exec(
        "client",
        Duration.ofMillis((long) (maxSeconds * 1000) + 2000),
        "curl",
        v6 ? "-6" : "-4",
        "-s",
        "--connect-timeout",
        Double.toString(Math.min(maxSeconds, 0.3)),
        "-m",
        Double.toString(maxSeconds),
        v6 ? "http://[" + origin + "]/" : "http://" + origin + "/");
  }

  /**
   * Starts a client that keeps one HTTP/1.1 connection to the origin's port 80 open and sends a
   * request on it every 100 ms, logging each answer's first line, until {@code stop} exists.
   */
  public Process keepAliveClient(Path stop) throws IOException {
    return keepAliveClient(stop, 5);
  }

  /**
   * {@link #keepAliveClient(Path)} whose requests each wait up to {@code timeoutSeconds}: long
   * enough for TCP to retransmit across a redirector's restart.
   */
  public Process keepAliveClient(Path stop, int timeoutSeconds) throws IOException {
    Path script =
        script(
            "keepalive.py",
            "import http.client, os, sys, time",
            "c = http.client.HTTPConnection(sys.argv[1], 80, timeout=float(sys.argv[3]))",
            "n = 0",
            "while not os.path.exists(sys.argv[2]) and n < 6000:",
            "    try:",
            "        c.request('GET', '/')",
            "        r = c.getresponse()",
            "        print('OK', r.read().decode().splitlines()[0], flush=True)",
            "    except Exception as e:",
            "        print('ERROR', repr(e), flush=True)",
            "        sys.exit(1)",
            "    n += 1",
            "    time.sleep(0.1)",
            "print('DONE', n, flush=True)");
    return net.spawn(
        "client",
        "python3",
        "-u",
        script.toString(),
        ORIGIN,
        stop.toString(),
        Integer.toString(timeoutSeconds));
  }

  /**
   * Starts {@code n} HTTP/1.1 keep-alive connections from the client to the origin's port 80, one
   * thread each, a request every 250 ms on each (each waiting up to {@code timeoutSeconds}), until
   * {@code stop} exists. A connection is never reopened: a reset, a timeout, a close by the server
   * or an answer from another server than its first ends it, as "broken" or "moved". Every 200 ms
   * the client writes {@code status}, one line per connection: "INDEX SERVER ANSWERS STATE" (SERVER
   * the first line of its first answer, spaces as '_'; STATE up, closed — stopped by {@code stop} —
   * or broken:REASON or moved:SERVER).
   */
  public Process keepAliveConnections(int n, Path status, Path stop, int timeoutSeconds)
      throws IOException {
    Path script =
        script(
            "keepalive-many.py",
            "import http.client, os, sys, threading, time",
            "host, n, status, stop, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3],"
                + " sys.argv[4], float(sys.argv[5])",
            "state = [['-', 0, 'opening'] for _ in range(n)]",
            "def run(i):",
            "    s = state[i]",
            "    try:",
            "        c = http.client.HTTPConnection(host, 80, timeout=timeout)",
            "        c.connect()",
            "        c.auto_open = 0",
            "    except Exception as e:",
            "        s[2] = 'broken:connect-' + type(e).__name__",
            "        return",
            "    while not os.path.exists(stop):",
            "        try:",
            "            c.request('GET', '/')",
            "            r = c.getresponse()",
            "            lines = r.read().decode().splitlines()",
            "            if r.status != 200 or r.will_close:",
            "                raise IOError('status %d, will_close %s' % (r.status, r.will_close))",
            "        except Exception as e:",
            "            s[2] = 'broken:' + type(e).__name__",
            "            return",
            "        server = lines[0].replace(' ', '_') if lines else '?'",
            "        if s[0] == '-':",
            "            s[0] = server",
            "        elif server != s[0]:",
            "            s[2] = 'moved:' + server",
            "            return",
            "        s[1] += 1",
            "        s[2] = 'up'",
            "        time.sleep(0.25)",
            "    c.close()",
            "    s[2] = 'closed'",
            "def report():",
            "    with open(status + '.tmp', 'w') as f:",
            "        for i, s in enumerate(state):",
            "            f.write('%d %s %d %s\\n' % (i, s[0], s[1], s[2]))",
            "    os.replace(status + '.tmp', status)",
            "threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]",
            "for t in threads:",
            "    t.start()",
            "while any(t.is_alive() for t in threads):",
            "    report()",
            "    time.sleep(0.2)",
            "report()");
    return net.spawn(
        "client",
        "python3",
        "-u",
        script.toString(),
        ORIGIN,
        Integer.toString(n),
        status.toString(),
        stop.toString(),
        Integer.toString(timeoutSeconds));
  }

  /**
   * Starts an iperf3 stream from the client to the origin's port 5201 (the origin's own iperf3
   * server, or a replica's): {@code mbps} Mbit/s for up to {@code seconds}, a report each second
   * (flushed at once), ended early by SIGTERM ({@link Process#destroy}).
   */
  public Process iperf3Client(int mbps, int seconds) {
    return net.spawn(
        "client",
        "iperf3",
        "-c",
        ORIGIN,
        "-p",
        "5201",
        "-b",
        mbps + "M",
        "-t",
        Integer.toString(seconds),
        "-i",
        "1",
        "--forceflush");
  }

  /** Starts the origin's own iperf3 server on its address, port 5201. */
  public Process iperf3Server() {
    return net.spawn("origin", "iperf3", "-s", "-B", ORIGIN, "-p", "5201");
  }

  /**
   * Starts a probe on the client: a fresh connection to the origin's port 80 every 10 ms, each in
   * its own thread (1 s timeout), so an attempt stuck on a dead host server never delays the next;
   * the first answered with {@code expected} as its first line prints "SERVED <epoch ms>" and the
   * probe exits. One process, so its own start-up is not in the measurement; each attempt uses a
   * new source port, so a new flow.
   */
  public Process probeUntil(String expected) throws IOException {
    return probeUntil(ORIGIN, expected);
  }

  /** {@link #probeUntil(String)} to {@code origin}, {@link #ORIGIN} or {@link #ORIGIN6}. */
  public Process probeUntil(String origin, String expected) throws IOException {
    Path script =
        script(
            "probe.py",
            "import os, socket, sys, threading, time",
            "done = threading.Event()",
            "def attempt():",
            "    try:",
            "        c = socket.create_connection((sys.argv[1], 80), timeout=1.0)",
            "        c.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')",
            "        data = b''",
            "        while True:",
            "            b = c.recv(4096)",
            "            if not b:",
            "                break",
            "            data += b",
            "        c.close()",
            "        body = data.split(b'\\r\\n\\r\\n', 1)[-1].decode().splitlines()",
            "        if body and body[0] == sys.argv[2] and not done.is_set():",
            "            done.set()",
            "            print('SERVED', int(time.time() * 1000), flush=True)",
            "            os._exit(0)",
            "    except OSError:",
            "        pass",
            "deadline = time.time() + 20",
            "print('READY', flush=True)",
            "while time.time() < deadline and not done.is_set():",
            "    threading.Thread(target=attempt, daemon=True).start()",
            "    time.sleep(0.01)",
            "print('TIMEOUT', flush=True)",
            "os._exit(1)");
    return net.spawn("client", "python3", "-u", script.toString(), origin, expected);
  }

  /** Sends {@code payload} as one UDP datagram from {@code ns} to host:port (198.18/15 only). */
  public ExecResult sendUdp(String ns, String host, int port, byte[] payload) {
    Topology.checkTestAddress(host);
    return net.exec(
        ns,
        "python3",
        "-c",
        "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
            + " s.sendto(bytes.fromhex(sys.argv[1]), (sys.argv[2], int(sys.argv[3])))",
        java.util.HexFormat.of().formatHex(payload),
        host,
        Integer.toString(port));
  }

  private static String address(String hs) {
    return hs.equals("hs1") ? HS1 : HS2;
  }
}
