package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The paper's topology in namespaces, with our own processes running in it: used by {@code hydranet
 * demo} and by the system tests.
 *
 * <pre>
 *  client 198.18.1.10 ─┐                                   ┌─ origin 198.18.2.10 (:80, :8080)
 *                      ├─ lan bridge ─ client0 [redirector] core0
 *  host server .1.20 ──┘   198.18.1.0/24   198.18.1.1   198.18.2.1
 *    └─ virtual host 198.18.2.10 (replica)
 * </pre>
 *
 * The host server sits on the client's segment (the paper's ISP-side placement), so the replica's
 * replies go straight to the client and never back through the redirector. Namespace names are
 * {@code <prefix>-lan, -client, -redir, -origin, -hs}.
 */
public final class PaperNetwork implements AutoCloseable {
  public static final String CLIENT = "198.18.1.10";
  public static final String ROUTER_CLIENT_SIDE = "198.18.1.1";
  public static final String HOST_SERVER = "198.18.1.20";
  public static final String ROUTER_CORE_SIDE = "198.18.2.1";
  public static final String ORIGIN = "198.18.2.10";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final Topology net;
  private final List<String> hydranet;
  private final Path work;
  private final Path config;
  private final Path redirectorStatus;
  private final Path hostStatus;
  private final Path state;
  private Path server;
  private final List<String> redirects = new ArrayList<>();
  private String hostServerMetrics = "127.0.0.1:9465";

  /**
   * Builds the namespaces and links; {@link #start} starts the processes.
   *
   * @param hydranet how to run this hydranet (e.g. java -jar hydranet.jar)
   */
  public PaperNetwork(String prefix, List<String> hydranet) {
    this.net = Topology.create(prefix);
    this.hydranet = List.copyOf(hydranet);
    this.work = net.workDir();
    this.config = work.resolve("redirector.yaml");
    this.redirectorStatus = work.resolve("redirector.status");
    this.hostStatus = work.resolve("hostserver.status");
    this.state = work.resolve("hs-state");
    try {
      build();
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
  }

  private void build() {
    for (String ns : List.of("lan", "client", "redir", "origin", "hs")) {
      net.namespace(ns);
    }
    net.bridge("lan", "br0");
    net.link("client", "eth0", "lan", "c0");
    net.link("redir", "client0", "lan", "r0");
    net.link("hs", "eth0", "lan", "h0");
    net.link("redir", "core0", "origin", "eth0");
    for (String port : List.of("c0", "r0", "h0")) {
      net.attach("lan", port, "br0");
      net.offloadsOff("lan", port);
    }
    net.offloadsOff("client", "eth0");
    net.offloadsOff("redir", "client0");
    net.offloadsOff("redir", "core0");
    net.offloadsOff("origin", "eth0");
    net.offloadsOff("hs", "eth0");
    net.address("client", "eth0", CLIENT + "/24");
    net.address("hs", "eth0", HOST_SERVER + "/24");
    net.address("redir", "client0", ROUTER_CLIENT_SIDE + "/24");
    net.address("redir", "core0", ROUTER_CORE_SIDE + "/24");
    net.address("origin", "eth0", ORIGIN + "/24");
    net.defaultRoute("client", ROUTER_CLIENT_SIDE);
    net.defaultRoute("hs", ROUTER_CLIENT_SIDE);
    net.defaultRoute("origin", ROUTER_CORE_SIDE);
    // The redirector's kernel must not forward: HydraNet does (checked again at its start).
    net.sysctl("redir", "net.ipv4.ip_forward", "0");
  }

  /**
   * Where the host server serves metrics (loopback by default); a system test may bind it to the
   * LAN address so a Prometheus beside the redirector can scrape both daemons.
   */
  public PaperNetwork hostServerMetrics(String hostPort) {
    this.hostServerMetrics = hostPort;
    return this;
  }

  /** Starts the origin's web servers (:80, :8080), the redirector and the host server. */
  public PaperNetwork start() throws IOException, InterruptedException {
    writeConfig();
    server = Daemons.webServer(work);
    Path originSite = Daemons.site(work, "origin", "served by the ORIGIN " + ORIGIN + "\n");
    Path origin8080 = Daemons.site(work, "origin8080", "port 8080, served by the ORIGIN\n");
    net.spawn("origin", "python3", server.toString(), ORIGIN, "80", originSite.toString());
    net.spawn("origin", "python3", server.toString(), ORIGIN, "8080", origin8080.toString());
    net.spawn(
        "redir",
        Daemons.args(
            hydranet,
            "redirector",
            "--config",
            config.toString(),
            "--status",
            redirectorStatus.toString()));
    net.spawn(
        "hs",
        Daemons.args(
            hydranet,
            "hostserver",
            "--interface",
            "eth0",
            "--address",
            HOST_SERVER,
            "--state-dir",
            state.toString(),
            "--status",
            hostStatus.toString(),
            "--metrics",
            hostServerMetrics));
    try {
      await(
          "the redirector and host server to start",
          () -> Files.exists(redirectorStatus) && Files.exists(hostStatus));
      await("the origin to answer", () -> curl(80).ok());
    } catch (IllegalStateException e) {
      // The topology and its logs are gone once closed: keep what the daemons said.
      throw new IllegalStateException(e.getMessage() + "\n" + logs(), e);
    }
    return this;
  }

  /** Runs the DNS-free web server as a replica of the origin on the host server ({@code vhost}). */
  public Process installWebReplica(String body) throws IOException, InterruptedException {
    Path site = Daemons.site(work, "replica", body);
    return installReplica("tcp 80", "python3", server.toString(), ORIGIN, "80", site.toString());
  }

  /**
   * Runs {@code command} under {@code hydranet vhost --origin ORIGIN} on the host server and waits
   * until the published ports contain {@code awaitPort} (like "tcp 80").
   */
  public Process installReplica(String awaitPort, String... command) throws InterruptedException {
    List<String> argv =
        new ArrayList<>(
            List.of("vhost", "--origin", ORIGIN, "--state-dir", state.toString(), "--"));
    argv.addAll(List.of(command));
    Process p = net.spawn("hs", Daemons.args(hydranet, argv.toArray(new String[0])));
    Path published = state.resolve("vhosts").resolve(ORIGIN + ".vhost");
    await("the replica to bind " + awaitPort, () -> Daemons.read(published).contains(awaitPort));
    return p;
  }

  /** Adds a redirect of ORIGIN:port/protocol to the host server and waits until it is loaded. */
  public void redirect(int port, String protocol) throws IOException, InterruptedException {
    redirects.add(ORIGIN + ":" + port + "/" + protocol);
    writeConfig();
    String line = ORIGIN + ":" + port + "/" + protocol + " -> " + HOST_SERVER;
    await("the redirector to load " + line, () -> Daemons.read(redirectorStatus).contains(line));
  }

  private void writeConfig() throws IOException {
    StringBuilder sb = new StringBuilder();
    sb.append("# written by PaperNetwork; MACs are read from the interfaces\n")
        .append("interfaces:\n")
        .append("  - { name: client0, address: ")
        .append(ROUTER_CLIENT_SIDE)
        .append("/24, mtu: 1500 }\n")
        .append("  - { name: core0, address: ")
        .append(ROUTER_CORE_SIDE)
        .append("/24, mtu: 1500 }\n");
    if (redirects.isEmpty()) {
      sb.append("redirects: []\n");
    } else {
      sb.append("redirects:\n");
      for (String r : redirects) {
        sb.append("  - service: ")
            .append(r)
            .append("\n    hostServers: [ { address: ")
            .append(HOST_SERVER)
            .append(", weight: 1 } ]\n");
      }
    }
    Path tmp = work.resolve("redirector.yaml.tmp");
    Files.writeString(tmp, sb);
    Files.move(
        tmp,
        config,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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

  public Topology topology() {
    return net;
  }

  public Path workDir() {
    return work;
  }

  public String redirectorStatus() {
    return Daemons.read(redirectorStatus);
  }

  public String hostServerStatus() {
    return Daemons.read(hostStatus);
  }

  /** A counter's value from a status text (" name value" lines), or 0. */
  public static long counter(String status, String name) {
    for (String line : status.split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 2 && w[0].equals(name)) {
        return Long.parseLong(w[1]);
      }
    }
    return 0;
  }

  /** Waits for {@code condition}, at most 30 s. */
  public void await(String what, BooleanSupplier condition) throws InterruptedException {
    Daemons.await(what, condition, WAIT, 200);
  }

  /** Every process log the topology kept, for a failure report. */
  public String logs() {
    return Daemons.logs(work);
  }

  @Override
  public void close() {
    net.close();
  }
}
