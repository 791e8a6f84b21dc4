package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.ctl.CtlServer;

/**
 * What the namespace networks ({@link PaperNetwork}, {@link ControlNetwork}, {@link WebNetwork})
 * share: their {@link Topology} and work directory, the wiring they are drawn with (LAN segments,
 * point-to-point wires, hosts, redirectors), the daemons of this same hydranet they start in it,
 * bounded waits, and the logs for a failure report.
 *
 * <p>Hosts have one interface, {@code eth0}, with a /24 and a default route; a redirector's kernel
 * does not forward (HydraNet does). A daemon's files sit in the work directory by its name: {@code
 * NAME.yaml}, {@code NAME-control.yaml}, the control socket {@code NAME.ctl}; keys in {@code
 * keys/NAME.key} and {@code keys/NAME.pub}.
 */
public abstract class NamespaceNetwork implements AutoCloseable {
  /** One end of a LAN: interface {@code ifName} of {@code ns}, bridged through {@code port}. */
  protected record Port(String ns, String ifName, String port) {}

  /** Building steps, which may write files. */
  protected interface Steps {
    void run() throws IOException;
  }

  protected final Topology net;
  protected final List<String> hydranet;
  protected final Path work;
  protected final Map<String, Process> daemons = new HashMap<>();
  private final Duration wait;
  private final long pollMillis;
  private Path webServer;

  /**
   * Creates the topology, deleting what a crashed run with the same prefix left; the subclass then
   * draws it in {@link #build}.
   *
   * @param hydranet how to run this hydranet (e.g. java -jar hydranet.jar)
   * @param wait the longest {@link #await} waits
   * @param pollMillis how often {@link #await} asks
   */
  protected NamespaceNetwork(String prefix, List<String> hydranet, Duration wait, long pollMillis) {
    this.net = Topology.create(prefix);
    this.hydranet = List.copyOf(hydranet);
    this.work = net.workDir();
    this.wait = wait;
    this.pollMillis = pollMillis;
  }

  /** Runs {@code steps}; if they fail, deletes the topology before the failure is thrown. */
  protected final void build(Steps steps) throws IOException {
    try {
      steps.run();
    } catch (RuntimeException | IOException e) {
      net.close();
      throw e;
    }
  }

  // ---- wiring ----

  protected static Port port(String ns, String ifName, String port) {
    return new Port(ns, ifName, port);
  }

  protected final void namespaces(String... names) {
    for (String name : names) {
      net.namespace(name);
    }
  }

  /**
   * A LAN: bridge {@code br0} in namespace {@code lan}, each member's interface linked to a port of
   * the bridge; offloads off on both ends.
   */
  protected final void segment(String lan, Port... members) {
    net.bridge(lan, "br0");
    for (Port m : members) {
      net.link(m.ns(), m.ifName(), lan, m.port());
      net.attach(lan, m.port(), "br0");
      net.offloadsOff(lan, m.port());
      net.offloadsOff(m.ns(), m.ifName());
    }
  }

  /** A point-to-point link, offloads off on both ends. */
  protected final void wire(String nsA, String ifA, String nsB, String ifB) {
    net.link(nsA, ifA, nsB, ifB);
    net.offloadsOff(nsA, ifA);
    net.offloadsOff(nsB, ifB);
  }

  /** A host: {@code address}/24 on its eth0, default route via {@code gateway}. */
  protected final void host(String ns, String address, String gateway) {
    net.address(ns, "eth0", address + "/24");
    net.defaultRoute(ns, gateway);
  }

  /** A host's IPv6 side: {@code address}/64 on its eth0, IPv6 default route via {@code gateway}. */
  protected final void host6(String ns, String address, String gateway) {
    net.address6(ns, "eth0", address + "/64");
    net.defaultRoute6(ns, gateway);
  }

  /**
   * A redirector's IPv6 side: {@code ifA} and {@code ifB} with their /64s, and a kernel that does
   * not forward IPv6 either (HydraNet does, with the same addresses as {@code address6} in its
   * config).
   */
  protected final void redirector6(
      String ns, String ifA, String addressA, String ifB, String addressB) {
    net.address6(ns, ifA, addressA + "/64");
    net.address6(ns, ifB, addressB + "/64");
    net.sysctl(ns, "net.ipv6.conf.all.forwarding", "0");
  }

  /**
   * A redirector's namespace: {@code ifA} and {@code ifB} with their /24s, and a kernel that does
   * not forward: HydraNet does (checked again at its start). The kernel still answers the control
   * protocol on the redirector's own addresses.
   */
  protected final void redirector(
      String ns, String ifA, String addressA, String ifB, String addressB) {
    net.address(ns, ifA, addressA + "/24");
    net.address(ns, ifB, addressB + "/24");
    net.sysctl(ns, "net.ipv4.ip_forward", "0");
  }

  /** An Ed25519 key pair for each node, {@code keys/NODE.key} and {@code keys/NODE.pub}. */
  protected final void keys(String... nodes) throws IOException {
    Files.createDirectories(keyDir());
    for (String node : nodes) {
      Keys.write(Keys.generate(), keyDir().resolve(node));
    }
  }

  // ---- daemons ----

  /** Starts {@code hydranet ARGS…} in {@code ns}. */
  protected final Process spawnHydranet(String ns, String... args) {
    return net.spawn(ns, hydranet(args).toArray(new String[0]));
  }

  /**
   * Starts the redirector {@code r} of the control plane: config {@code r.yaml}, control config
   * {@code r-control.yaml}, control socket {@code r.ctl}, /metrics on {@code metrics} ("off" for
   * none).
   */
  protected final Process startControlledRedirector(String r, String metrics) {
    Process p =
        spawnHydranet(
            r,
            "redirector",
            "--config",
            work.resolve(r + ".yaml").toString(),
            "--control",
            work.resolve(r + "-control.yaml").toString(),
            "--ctl-socket",
            ctlPath(r).toString(),
            "--metrics",
            metrics);
    daemons.put(r, p);
    return p;
  }

  /** Starts the host server {@code hs} of the control plane on its eth0, config as above. */
  protected final Process startControlledHostServer(
      String hs, String address, Path stateDir, String metrics) {
    return startHostServer(hs, address, stateDir, true, metrics);
  }

  /**
   * Starts the host server {@code hs} on its eth0: with the control plane ({@code controlled},
   * config {@code hs-control.yaml}), or without (it serves what redirectors' static tables send
   * it).
   */
  protected final Process startHostServer(
      String hs, String address, Path stateDir, boolean controlled, String metrics) {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "hostserver",
                "--interface",
                "eth0",
                "--address",
                address,
                "--state-dir",
                stateDir.toString()));
    if (controlled) {
      argv.addAll(List.of("--control", work.resolve(hs + "-control.yaml").toString()));
    }
    argv.addAll(List.of("--ctl-socket", ctlPath(hs).toString(), "--metrics", metrics));
    Process p = spawnHydranet(hs, argv.toArray(new String[0]));
    daemons.put(hs, p);
    return p;
  }

  /** Host server {@code hs}'s state directory, {@code work/HS-state}. */
  protected final Path stateDir(String hs) {
    return work.resolve(hs + "-state");
  }

  /**
   * Runs a web server replica of {@code origin} (port 80, index {@code body}) on host server {@code
   * hs} under {@code hydranet vhost}, and waits until it listens.
   */
  public Process installWebReplica(String hs, String origin, String body)
      throws IOException, InterruptedException {
    Path site = site(hs + "-" + origin, body);
    return vhost(hs, stateDir(hs), origin, "tcp 80", webServerCommand(origin, 80, site));
  }

  /**
   * Runs {@code command} under {@code hydranet vhost --origin ORIGIN} on host server {@code hs} and
   * waits until the virtual host publishes {@code awaitPort} (like "tcp 80").
   */
  protected final Process vhost(
      String hs, Path stateDir, String origin, String awaitPort, String... command)
      throws InterruptedException {
    List<String> argv =
        new ArrayList<>(
            List.of("vhost", "--origin", origin, "--state-dir", stateDir.toString(), "--"));
    argv.addAll(List.of(command));
    Process p = spawnHydranet(hs, argv.toArray(new String[0]));
    Path published = stateDir.resolve("vhosts").resolve(origin + ".vhost");
    await(
        "the virtual host " + origin + " on " + hs + " to bind " + awaitPort,
        () -> read(published).contains(awaitPort));
    return p;
  }

  /**
   * A static HTTP/1.1 (keep-alive) server on {@code address:port} in {@code ns} whose index.html is
   * {@code index} (in {@code work/site-NAME}): Python's http.server as a process.
   */
  protected final Process webServer(String ns, String address, int port, String name, String index)
      throws IOException {
    return net.spawn(ns, webServerCommand(address, port, site(name, index)));
  }

  /** The command line of that web server, e.g. for a virtual host. */
  protected final String[] webServerCommand(String address, int port, Path site)
      throws IOException {
    return new String[] {
      "python3", webServerScript().toString(), address, Integer.toString(port), site.toString()
    };
  }

  /**
   * The web server's script: http.server minus the one thing it does that we cannot have here
   * (HTTPServer.server_bind asks DNS for the name of its own address), on IPv6 when the address is
   * one. Arguments: ADDRESS PORT DIRECTORY.
   */
  private Path webServerScript() throws IOException {
    if (webServer == null) {
      webServer =
          script(
              "webserver.py",
              "import functools, http.server, socket, socketserver, sys",
              "class Server(http.server.ThreadingHTTPServer):",
              "    address_family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET",
              "    def server_bind(self):",
              "        socketserver.TCPServer.server_bind(self)",
              "        self.server_name, self.server_port = self.server_address[:2]",
              "class Handler(http.server.SimpleHTTPRequestHandler):",
              "    protocol_version = 'HTTP/1.1'",
              "    def log_message(self, *args):",
              "        pass",
              "handler = functools.partial(Handler, directory=sys.argv[3])",
              "Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()");
    }
    return webServer;
  }

  /**
   * Writes {@code work/NAME} from {@code lines} (a script for python3), each ending in a newline.
   */
  protected final Path script(String name, String... lines) throws IOException {
    Path file = work.resolve(name);
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  /** A directory {@code work/site-NAME} whose index.html is {@code index}. */
  protected final Path site(String name, String index) throws IOException {
    Path dir = work.resolve("site-" + name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("index.html"), index);
    return dir;
  }

  /** Every argument to {@code hydranet} this network runs, for a caller's own commands. */
  public List<String> hydranet(String... more) {
    List<String> all = new ArrayList<>(hydranet);
    all.addAll(List.of(more));
    return all;
  }

  // ---- what the tests and the demo ask ----

  public Topology topology() {
    return net;
  }

  /** The work directory: configs, keys, sockets, logs; gone once closed. */
  public Path workDir() {
    return work;
  }

  /** The key files' directory: {@code NODE.key} and {@code NODE.pub}. */
  public Path keyDir() {
    return work.resolve("keys");
  }

  /** A daemon this network started, by name. */
  public Process daemon(String name) {
    return daemons.get(name);
  }

  public Path ctlPath(String daemon) {
    return work.resolve(daemon + ".ctl");
  }

  /** {@code hydranet ctl WHAT} against a daemon's local socket; why not, if it does not answer. */
  public String ctl(String daemon, String what) {
    try {
      return CtlServer.request(ctlPath(daemon), what);
    } catch (IOException e) {
      return "(no answer from " + daemon + ": " + e + ")";
    }
  }

  /** A counter's value from {@code hydranet ctl counters} output, or 0. */
  public long counter(String daemon, String name) {
    return counterIn(ctl(daemon, "counters"), name);
  }

  /** A counter's value from a status or counters text ("NAME VALUE" lines), or 0. */
  public static long counterIn(String text, String name) {
    for (String line : text.split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 2 && w[0].equals(name)) {
        return Long.parseLong(w[1]);
      }
    }
    return 0;
  }

  /** What a process this network started has written so far. */
  public String processLog(Process p) {
    return net.logOf(p);
  }

  /** Logs of the daemons by name, for a failure report. */
  public String logsOf(String... names) {
    StringBuilder sb = new StringBuilder();
    for (String n : names) {
      Process p = daemons.get(n);
      if (p != null) {
        sb.append("== ").append(n).append('\n').append(net.logOf(p));
      }
    }
    return sb.toString();
  }

  /** Every process log kept in the work directory, for a failure report. */
  public String logs() {
    StringBuilder sb = new StringBuilder();
    try (var files = Files.list(work)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        sb.append("== log ").append(log.getFileName()).append('\n');
        sb.append(Files.readString(log, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      sb.append("(cannot list logs: ").append(e.getMessage()).append(")\n");
    }
    return sb.toString();
  }

  /**
   * How long a topology may take to start: its JVMs start and JIT at once, and on a machine already
   * busy (a shared CI runner, a load of 30 on two cores) that took longer than the 30 s the steps
   * after it need.
   */
  static final Duration START_WAIT = Duration.ofSeconds(90);

  /** Waits for {@code condition}, at most this network's wait. */
  public void await(String what, BooleanSupplier condition) throws InterruptedException {
    await(what, condition, wait);
  }

  private void await(String what, BooleanSupplier condition, Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(pollMillis);
    }
    throw new IllegalStateException("timed out waiting for " + what);
  }

  /**
   * {@link #await} while starting, for up to {@link #START_WAIT}: a timeout's message carries every
   * log, which is gone once the topology is closed.
   */
  protected final void awaitStart(String what, BooleanSupplier condition)
      throws InterruptedException {
    try {
      await(what, condition, START_WAIT.compareTo(wait) > 0 ? START_WAIT : wait);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "\n" + logs(), e);
    }
  }

  /** Writes {@code text} to {@code work/NAME} at once (a daemon may be reading the file). */
  public void write(String name, String text) throws IOException {
    Path tmp = work.resolve(name + ".tmp");
    Files.writeString(tmp, text);
    Files.move(
        tmp,
        work.resolve(name),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** A file's text, or "" if it is missing or unreadable (a status file being replaced). */
  protected static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    net.close();
  }
}
