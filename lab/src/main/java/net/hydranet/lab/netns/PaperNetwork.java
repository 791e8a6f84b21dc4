package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's topology in namespaces, with our own processes running in it: used by the system
 * tests of the data path.
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
 * {@code <prefix>-lan, -client, -redir, -origin, -hs}. The redirector has a static config (no
 * control plane), rewritten by {@link #redirect}.
 */
public final class PaperNetwork extends NamespaceNetwork {
  public static final String CLIENT = "198.18.1.10";
  public static final String ROUTER_CLIENT_SIDE = "198.18.1.1";
  public static final String HOST_SERVER = "198.18.1.20";
  public static final String ROUTER_CORE_SIDE = "198.18.2.1";
  public static final String ORIGIN = "198.18.2.10";
  // With dualStack(): the same hosts in RFC 5180's 2001:2::/48, the LAN 2001:2:0:1::/64 and the
  // core 2001:2:0:2::/64.
  public static final String CLIENT6 = "2001:2:0:1::10";
  public static final String ROUTER_CLIENT_SIDE6 = "2001:2:0:1::1";
  public static final String HOST_SERVER6 = "2001:2:0:1::20";
  public static final String ROUTER_CORE_SIDE6 = "2001:2:0:2::1";
  public static final String ORIGIN6 = "2001:2:0:2::10";

  private final Path redirectorStatus;
  private final Path hostStatus;
  private final Path state;
  // Each redirected service, with its host server's weight.
  private final Map<String, Integer> redirects = new LinkedHashMap<>();
  private final List<String> limits = new ArrayList<>();
  private String hostServerMetrics = "127.0.0.1:9465";
  private int pipelines = 1;
  private String encapsulation = "ipip";
  private boolean dualStack;
  private Process redirector;

  /**
   * Builds the namespaces and links; {@link #start} starts the processes.
   *
   * @param hydranet how to run this hydranet (e.g. java -jar hydranet.jar)
   */
  public PaperNetwork(String prefix, List<String> hydranet) throws IOException {
    this(prefix, hydranet, Duration.ofSeconds(30));
  }

  /**
   * As above, waiting at most {@code wait} for each step (a test that loads the machine itself, or
   * runs while others do, may need more than 30 s for a JVM to start).
   */
  public PaperNetwork(String prefix, List<String> hydranet, Duration wait) throws IOException {
    super(prefix, hydranet, wait, 200);
    this.redirectorStatus = work.resolve("redirector.status");
    this.hostStatus = work.resolve("hostserver.status");
    this.state = work.resolve("hs-state");
    build(this::wiring);
  }

  private void wiring() {
    namespaces("lan", "client", "redir", "origin", "hs");
    segment(
        "lan",
        port("client", "eth0", "c0"),
        port("redir", "client0", "r0"),
        port("hs", "eth0", "h0"));
    wire("redir", "core0", "origin", "eth0");
    host("client", CLIENT, ROUTER_CLIENT_SIDE);
    host("hs", HOST_SERVER, ROUTER_CLIENT_SIDE);
    host("origin", ORIGIN, ROUTER_CORE_SIDE);
    redirector("redir", "client0", ROUTER_CLIENT_SIDE, "core0", ROUTER_CORE_SIDE);
  }

  /**
   * Where the host server serves metrics (loopback by default); a system test may bind it to the
   * LAN address so a Prometheus beside the redirector can scrape both daemons.
   */
  public PaperNetwork hostServerMetrics(String hostPort) {
    this.hostServerMetrics = hostPort;
    return this;
  }

  /** How many forwarding pipelines the redirector runs ({@code limits.pipelines}); before start. */
  public PaperNetwork pipelines(int n) {
    this.pipelines = n;
    return this;
  }

  /**
   * Lines of the redirector's {@code limits:} section, like "flowCapacity: 64" (the defaults
   * otherwise); before {@link #start}, as limits are fixed when the redirector starts.
   */
  public PaperNetwork redirectorLimits(String... lines) {
    limits.addAll(List.of(lines));
    return this;
  }

  /**
   * Gives every host and both of the redirector's interfaces their IPv6 address too ({@link
   * #CLIENT6} and its neighbours), and the redirector's config its {@code address6}: it then
   * forwards IPv6 (learning its neighbours by neighbour discovery) as well as IPv4. Before {@link
   * #start}.
   */
  public PaperNetwork dualStack() {
    if (!dualStack) {
      dualStack = true;
      host6("client", CLIENT6, ROUTER_CLIENT_SIDE6);
      host6("hs", HOST_SERVER6, ROUTER_CLIENT_SIDE6);
      host6("origin", ORIGIN6, ROUTER_CORE_SIDE6);
      redirector6("redir", "client0", ROUTER_CLIENT_SIDE6, "core0", ROUTER_CORE_SIDE6);
    }
    return this;
  }

  /** The tunnel the redirector sends to the host server in: "ipip" (the default) or "gue". */
  public PaperNetwork encapsulation(String value) {
    this.encapsulation = value;
    return this;
  }

  /** Starts the origin's web servers (:80, :8080), the redirector and the host server. */
  public PaperNetwork start() throws IOException, InterruptedException {
    writeConfig();
    webServer("origin", ORIGIN, 80, "origin", "served by the ORIGIN " + ORIGIN + "\n");
    webServer("origin", ORIGIN, 8080, "origin8080", "port 8080, served by the ORIGIN\n");
    startRedirector();
    spawnHydranet(
        "hs",
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
        hostServerMetrics);
    awaitStart(
        "the redirector and host server to start",
        () -> Files.exists(redirectorStatus) && Files.exists(hostStatus));
    awaitStart("the origin to answer", () -> curl(80).ok());
    return this;
  }

  private void startRedirector() {
    String config = work.resolve("redirector.yaml").toString();
    redirector =
        spawnHydranet(
            "redir", "redirector", "--config", config, "--status", redirectorStatus.toString());
  }

  /**
   * Kills the redirector with SIGKILL — its connection table dies with it — and starts it again on
   * the same config; returns once the new one writes its status.
   */
  public void restartRedirector() throws IOException, InterruptedException {
    redirector.destroyForcibly();
    if (!redirector.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      throw new IOException("the redirector did not die of SIGKILL within 10 s");
    }
    Files.deleteIfExists(redirectorStatus);
    startRedirector();
    awaitStart("the restarted redirector to start", () -> Files.exists(redirectorStatus));
  }

  /** Runs the DNS-free web server as a replica of the origin on the host server ({@code vhost}). */
  public Process installWebReplica(String body) throws IOException, InterruptedException {
    return installReplica("tcp 80", webServerCommand(ORIGIN, 80, site("replica", body)));
  }

  /**
   * Runs {@code command} under {@code hydranet vhost --origin ORIGIN} on the host server and waits
   * until the published ports contain {@code awaitPort} (like "tcp 80").
   */
  public Process installReplica(String awaitPort, String... command) throws InterruptedException {
    return vhost("hs", state, ORIGIN, awaitPort, command);
  }

  /** Adds a redirect of ORIGIN:port/protocol to the host server and waits until it is loaded. */
  public void redirect(int port, String protocol) throws IOException, InterruptedException {
    redirect(port, protocol, 1);
  }

  /**
   * Adds a redirect with the host server at {@code weight}; at 0 (drained) the service's new flows
   * go to the origin, each recorded in the connection table.
   */
  public void redirect(int port, String protocol, int weight)
      throws IOException, InterruptedException {
    redirects.put(ORIGIN + ":" + port + "/" + protocol, weight);
    writeConfig();
    String line = ORIGIN + ":" + port + "/" + protocol + " -> " + HOST_SERVER;
    await("the redirector to load " + line, () -> read(redirectorStatus).contains(line));
  }

  private void writeConfig() throws IOException {
    StringBuilder sb = new StringBuilder();
    sb.append("# written by PaperNetwork; MACs are read from the interfaces\n")
        .append("interfaces:\n")
        .append("  - { name: client0, address: ")
        .append(ROUTER_CLIENT_SIDE)
        .append("/24, mtu: 1500")
        .append(dualStack ? ", address6: \"" + ROUTER_CLIENT_SIDE6 + "/64\"" : "")
        .append(" }\n")
        .append("  - { name: core0, address: ")
        .append(ROUTER_CORE_SIDE)
        .append("/24, mtu: 1500")
        .append(dualStack ? ", address6: \"" + ROUTER_CORE_SIDE6 + "/64\"" : "")
        .append(" }\n");
    if (redirects.isEmpty()) {
      sb.append("redirects: []\n");
    } else {
      sb.append("redirects:\n");
      for (Map.Entry<String, Integer> r : redirects.entrySet()) {
        sb.append("  - service: ")
            .append(r.getKey())
            .append("\n    hostServers: [ { address: ")
            .append(HOST_SERVER)
            .append(", weight: ")
            .append(r.getValue())
            .append(", encapsulation: ")
            .append(encapsulation)
            .append(" } ]\n");
      }
    }
    if (pipelines != 1 || !limits.isEmpty()) {
      sb.append("limits:\n");
      if (pipelines != 1) {
        sb.append("  pipelines: ").append(pipelines).append('\n');
      }
      for (String l : limits) {
        sb.append("  ").append(l).append('\n');
      }
    }
    write("redirector.yaml", sb.toString());
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

  public String redirectorStatus() {
    return read(redirectorStatus);
  }

  public String hostServerStatus() {
    return read(hostStatus);
  }
}
