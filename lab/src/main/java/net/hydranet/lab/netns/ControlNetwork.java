package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import net.hydranet.control.auth.Keys;

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
 */
public final class ControlNetwork implements AutoCloseable {
  public static final String CLIENT = "198.18.1.10";
  public static final String R1 = "198.18.1.1";
  public static final String R1_CORE = "198.18.2.1";
  public static final String R2 = "198.18.2.2";
  public static final String R2_FAR = "198.18.3.1";
  public static final String HS1 = "198.18.1.20";
  public static final String HS2 = "198.18.3.20";
  public static final String ORIGIN = "198.18.2.10";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final Topology net;
  private final List<String> hydranet;
  private final Path work;
  private final Map<String, Process> daemons = new HashMap<>();
  private Path server;

  public ControlNetwork(String prefix, List<String> hydranet) throws IOException {
    this.net = Topology.create(prefix);
    this.hydranet = List.copyOf(hydranet);
    this.work = net.workDir();
    try {
      build();
      keys();
    } catch (RuntimeException | IOException e) {
      net.close();
      throw e;
    }
  }

  private void build() {
    for (String ns : List.of("lan", "core", "client", "r1", "r2", "origin", "hs1", "hs2")) {
      net.namespace(ns);
    }
    net.bridge("lan", "br0");
    net.bridge("core", "br0");
    net.link("client", "eth0", "lan", "c0");
    net.link("hs1", "eth0", "lan", "h1");
    net.link("r1", "client0", "lan", "r1");
    net.link("r1", "core0", "core", "r1");
    net.link("r2", "core0", "core", "r2");
    net.link("origin", "eth0", "core", "o0");
    net.link("r2", "far0", "hs2", "eth0");
    for (String port : List.of("c0", "h1", "r1")) {
      net.attach("lan", port, "br0");
      net.offloadsOff("lan", port);
    }
    for (String port : List.of("r1", "r2", "o0")) {
      net.attach("core", port, "br0");
      net.offloadsOff("core", port);
    }
    for (String[] end :
        new String[][] {
          {"client", "eth0"}, {"hs1", "eth0"}, {"hs2", "eth0"}, {"origin", "eth0"},
          {"r1", "client0"}, {"r1", "core0"}, {"r2", "core0"}, {"r2", "far0"}
        }) {
      net.offloadsOff(end[0], end[1]);
    }
    net.address("client", "eth0", CLIENT + "/24");
    net.address("hs1", "eth0", HS1 + "/24");
    net.address("r1", "client0", R1 + "/24");
    net.address("r1", "core0", R1_CORE + "/24");
    net.address("r2", "core0", R2 + "/24");
    net.address("r2", "far0", R2_FAR + "/24");
    net.address("hs2", "eth0", HS2 + "/24");
    net.address("origin", "eth0", ORIGIN + "/24");
    net.defaultRoute("client", R1);
    net.defaultRoute("hs1", R1);
    net.defaultRoute("hs2", R2_FAR);
    net.defaultRoute("origin", R1_CORE);
    // The redirectors' kernels must not forward: HydraNet does. Their kernels still answer the
    // control protocol on their own addresses.
    net.sysctl("r1", "net.ipv4.ip_forward", "0");
    net.sysctl("r2", "net.ipv4.ip_forward", "0");
    net.route("r1", "198.18.3.0/24", R2);
    net.route("r2", "198.18.1.0/24", R1_CORE);
  }

  private void keys() throws IOException {
    Files.createDirectories(work.resolve("keys"));
    for (String node : List.of("r1", "r2", "hs1", "hs2", "stranger")) {
      Keys.write(Keys.generate(), work.resolve("keys").resolve(node));
    }
  }

  /** The key files' directory: {@code NODE.key} and {@code NODE.pub}. */
  public Path keyDir() {
    return work.resolve("keys");
  }

  /** Writes the configs, starts the origin's web server and both redirectors. */
  public ControlNetwork start(int hostServerHoldMillis) throws IOException, InterruptedException {
    server = Daemons.webServer(work);
    Path originSite = Daemons.site(work, "origin", "ORIGIN " + ORIGIN + "\n");
    net.spawn("origin", "python3", server.toString(), ORIGIN, "80", originSite.toString());
    writeRedirectorConfigs();
    startRedirector("r1");
    startRedirector("r2");
    startHostServer("hs1", hostServerHoldMillis);
    startHostServer("hs2", hostServerHoldMillis);
    try {
      await("the origin to answer through r1", () -> curl(2).ok());
      await("r1 to hear hs1", () -> ctl("r1", "peers").contains(HS1 + " "));
      await("r2 to hear hs2", () -> ctl("r2", "peers").contains(HS2 + " "));
      await("r1 and r2 to hear each other", () -> ctl("r1", "peers").contains(R2 + " "));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "\n" + logs(), e);
    }
    return this;
  }

  private void writeRedirectorConfigs() throws IOException {
    write(
        "r1.yaml",
        "interfaces:\n"
            + "  - { name: client0, address: "
            + R1
            + "/24 }\n"
            + "  - { name: core0, address: "
            + R1_CORE
            + "/24 }\n"
            + "routes:\n"
            + "  - { prefix: 198.18.3.0/24, via: "
            + R2
            + " }\n"
            + "redirects: []\n");
    write(
        "r2.yaml",
        "interfaces:\n"
            + "  - { name: core0, address: "
            + R2
            + "/24 }\n"
            + "  - { name: far0, address: "
            + R2_FAR
            + "/24 }\n"
            + "routes:\n"
            + "  - { prefix: 198.18.1.0/24, via: "
            + R1_CORE
            + " }\n"
            + "redirects: []\n");
    String authorise =
        "authorise:\n  - { origins: " + ORIGIN + "/32, hostServers: [" + HS1 + ", " + HS2 + "] }\n";
    write(
        "r1-control.yaml",
        "address: "
            + R1
            + "\nkey: keys/r1.key\nholdMillis: 1500\ndampingHalfLifeSeconds: 2\n"
            + "hostServers:\n  - { address: "
            + HS1
            + ", key: keys/hs1.pub, cost: 1 }\n"
            + "redirectors:\n  - { address: "
            + R2
            + ", key: keys/r2.pub, cost: 1 }\n"
            + authorise);
    write(
        "r2-control.yaml",
        "address: "
            + R2
            + "\nkey: keys/r2.key\nholdMillis: 1500\ndampingHalfLifeSeconds: 2\n"
            + "hostServers:\n  - { address: "
            + HS2
            + ", key: keys/hs2.pub, cost: 1 }\n"
            + "redirectors:\n  - { address: "
            + R1
            + ", key: keys/r1.pub, cost: 1 }\n"
            + authorise);
  }

  /**
   * One node, one id: r1 is 198.18.1.1 and r2 is 198.18.2.2 to everyone, and each binds its control
   * socket to that address alone; r1's datagrams to r2 leave by core0 with source 198.18.1.1.
   */
  private void writeHostServerConfig(String hs, int holdMillis) throws IOException {
    String self = hs.equals("hs1") ? HS1 : HS2;
    String redirector = hs.equals("hs1") ? R1 : R2;
    String redirectorKey = hs.equals("hs1") ? "r1" : "r2";
    write(
        hs + "-control.yaml",
        "address: "
            + self
            + "\nkey: keys/"
            + hs
            + ".key\nholdMillis: "
            + holdMillis
            + "\ndrainSeconds: 1\n"
            + "redirectors:\n  - { address: "
            + redirector
            + ", key: keys/"
            + redirectorKey
            + ".pub }\n");
  }

  public void startRedirector(String r) {
    Process p =
        net.spawn(
            r,
            Daemons.args(
                hydranet,
                "redirector",
                "--config",
                work.resolve(r + ".yaml").toString(),
                "--control",
                work.resolve(r + "-control.yaml").toString(),
                "--ctl",
                ctlPath(r).toString(),
                "--metrics",
                "off"));
    daemons.put(r, p);
  }

  /** Starts (or restarts) a host server whose messages carry {@code holdMillis}. */
  public void startHostServer(String hs, int holdMillis) throws IOException {
    writeHostServerConfig(hs, holdMillis);
    Process p =
        net.spawn(
            hs,
            Daemons.args(
                hydranet,
                "hostserver",
                "--interface",
                "eth0",
                "--address",
                hs.equals("hs1") ? HS1 : HS2,
                "--state-dir",
                state(hs).toString(),
                "--control",
                work.resolve(hs + "-control.yaml").toString(),
                "--ctl",
                ctlPath(hs).toString(),
                "--metrics",
                "off"));
    daemons.put(hs, p);
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
    }
  }

  /** Runs a web server replica of the origin on {@code hs} under {@code hydranet vhost}. */
  public Process installWebReplica(String hs, String origin, String body)
      throws IOException, InterruptedException {
    Path site = Daemons.site(work, hs + "-" + origin, body);
    List<String> argv =
        new ArrayList<>(
            List.of(
                "vhost",
                "--origin",
                origin,
                "--state-dir",
                state(hs).toString(),
                "--",
                "python3",
                server.toString(),
                origin,
                "80",
                site.toString()));
    Process p = net.spawn(hs, Daemons.args(hydranet, argv.toArray(new String[0])));
    Path published = state(hs).resolve("vhosts").resolve(origin + ".vhost");
    await(
        "the replica on " + hs + " to bind tcp 80",
        () -> Daemons.read(published).contains("tcp 80"));
    return p;
  }

  /** {@code hydranet ctl WHAT} against a daemon's local socket; why not, if it does not answer. */
  public String ctl(String daemon, String what) {
    return Daemons.ctl(ctlPath(daemon), daemon, what);
  }

  /** A counter's value from {@code hydranet ctl counters} output, or 0. */
  public long counter(String daemon, String name) {
    return Daemons.counter(ctl(daemon, "counters"), name);
  }

  /** One HTTP GET from the client to the origin's port 80, with a total time limit. */
  public ExecResult curl(double maxSeconds) {
    return net.exec(
        "client",
        Duration.ofMillis((long) (maxSeconds * 1000) + 2000),
        "curl",
        "-s",
        "--connect-timeout",
        Double.toString(Math.min(maxSeconds, 0.3)),
        "-m",
        Double.toString(maxSeconds),
        "http://" + ORIGIN + "/");
  }

  /**
   * Starts a client that keeps one HTTP/1.1 connection to the origin's port 80 open and sends a
   * request on it every 100 ms, logging each answer's first line, until {@code stop} exists.
   */
  public Process keepAliveClient(Path stop) throws IOException {
    Path script = work.resolve("keepalive.py");
    Files.writeString(
        script,
        String.join(
            "\n",
            "import http.client, os, sys, time",
            "c = http.client.HTTPConnection(sys.argv[1], 80, timeout=5)",
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
            "print('DONE', n, flush=True)",
            ""));
    return net.spawn("client", "python3", "-u", script.toString(), ORIGIN, stop.toString());
  }

  /**
   * Starts a probe on the client: a fresh connection to the origin's port 80 every 10 ms, each in
   * its own thread (1 s timeout), so an attempt stuck on a dead host server never delays the next;
   * the first answered with {@code expected} as its first line prints "SERVED <epoch ms>" and the
   * probe exits. One process, so its own start-up is not in the measurement; each attempt uses a
   * new source port, so a new flow.
   */
  public Process probeUntil(String expected) throws IOException {
    Path script = work.resolve("probe.py");
    Files.writeString(
        script,
        String.join(
            "\n",
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
            "os._exit(1)",
            ""));
    return net.spawn("client", "python3", "-u", script.toString(), ORIGIN, expected);
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

  public Topology topology() {
    return net;
  }

  /** What a process this network started has written so far. */
  public String processLog(Process p) {
    return net.logOf(p);
  }

  public Path workDir() {
    return work;
  }

  private Path ctlPath(String daemon) {
    return work.resolve(daemon + ".ctl");
  }

  private Path state(String hs) {
    return work.resolve(hs + "-state");
  }

  /** Waits for {@code condition}, at most 30 s. */
  public void await(String what, BooleanSupplier condition) throws InterruptedException {
    Daemons.await(what, condition, WAIT, 50);
  }

  /** Every process log the topology kept, for a failure report. */
  public String logs() {
    return Daemons.logs(work);
  }

  private void write(String name, String text) throws IOException {
    Path tmp = work.resolve(name + ".tmp");
    Files.writeString(tmp, text);
    Files.move(
        tmp,
        work.resolve(name),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void close() {
    net.close();
  }
}
