package net.hydranet.router.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import net.hydranet.router.netns.ExecResult;
import net.hydranet.router.netns.Topology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hydranet demo}: the whole path on one machine. It builds the paper's topology in network
 * namespaces, starts an origin web server, our redirector and our host server, asks with curl
 * before and after a replica is installed, prints the table, the path each request took and the
 * counters, and removes everything.
 *
 * <pre>
 *  client 198.18.1.10 ─┐                                   ┌─ origin 198.18.2.10 (:80, :8080)
 *                      ├─ lan bridge ─ client0 [redirector] core0
 *  host server .1.20 ──┘   198.18.1.0/24   198.18.1.1   198.18.2.1
 *    └─ virtual host 198.18.2.10 (replica, :80)
 * </pre>
 *
 * The host server sits on the client's segment (the paper's ISP-side placement), so the replica's
 * replies go straight to the client and never back through the redirector.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Builds a demo network in namespaces (names start with 'hnd-'; needs root), shows a",
      "client's HTTP request answered by the origin, then by a replica on a host server once",
      "the redirector's table says so, prints tables, paths and counters, and cleans up.",
      "",
      "Example:",
      "  bin/hydranet demo"
    })
public final class DemoCommand implements Callable<Integer> {
  private static final String ORIGIN = "198.18.2.10";
  private static final String HOST_SERVER = "198.18.1.20";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Option(names = "--keep-logs", description = "print the daemons' logs at the end")
  boolean keepLogs;

  private PrintStream out;
  private Topology net;
  private Path work;

  @Override
  public Integer call() throws Exception {
    out = System.out;
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new UserError("demo: needs root (it creates network namespaces)");
    }
    List<String> hydranet = launcher();
    try (Topology topology = Topology.create("hnd")) {
      net = topology;
      work = topology.workDir();
      step("building the topology (namespaces hnd-*)");
      build();
      Path config = work.resolve("redirector.yaml");
      Files.writeString(config, redirectorConfig(false));
      Path redirectorStatus = work.resolve("redirector.status");
      Path hostStatus = work.resolve("hostserver.status");
      Path state = work.resolve("hs-state");

      step("starting the origin's web servers on " + ORIGIN + ":80 and :8080");
      Path originSite = site("origin", "served by the ORIGIN " + ORIGIN + "\n");
      Path origin8080 = site("origin8080", "port 8080, served by the ORIGIN\n");
      Path server = webServer();
      net.spawn("origin", "python3", server.toString(), ORIGIN, "80", originSite.toString());
      net.spawn("origin", "python3", server.toString(), ORIGIN, "8080", origin8080.toString());

      step("starting the redirector (hydranet redirector) between client0 and core0");
      net.spawn(
          "redir",
          args(
              hydranet,
              "redirector",
              "--config",
              config.toString(),
              "--status",
              redirectorStatus.toString()));
      step("starting the host server (hydranet hostserver) at " + HOST_SERVER);
      net.spawn(
          "hs",
          args(
              hydranet,
              "hostserver",
              "--interface",
              "eth0",
              "--address",
              HOST_SERVER,
              "--state-dir",
              state.toString(),
              "--status",
              hostStatus.toString()));
      await(
          "the redirector and host server to start",
          () -> Files.exists(redirectorStatus) && Files.exists(hostStatus));
      await("the origin to answer", () -> curl(ORIGIN, 80).ok());

      step("request 1: no replica installed, the table is empty");
      request(80, redirectorStatus, hostStatus);

      step("installing a replica: hydranet vhost --origin " + ORIGIN + " on the host server");
      Path replicaSite =
          site("replica", "served by the REPLICA on host server " + HOST_SERVER + "\n");
      net.spawn(
          "hs",
          args(
              hydranet,
              "vhost",
              "--origin",
              ORIGIN,
              "--state-dir",
              state.toString(),
              "--",
              "python3",
              server.toString(),
              ORIGIN,
              "80",
              replicaSite.toString()));
      Path published = state.resolve("vhosts").resolve(ORIGIN + ".vhost");
      await("the replica to listen on tcp/80", () -> read(published).contains("tcp 80"));
      out.println(
          "   host server announces " + ORIGIN + ":80/tcp (logged until the control plane exists)");

      step(
          "adding the redirect "
              + ORIGIN
              + ":80/tcp -> "
              + HOST_SERVER
              + " to the redirector's table");
      Files.writeString(config, redirectorConfig(true));
      await(
          "the redirector to load it", () -> read(redirectorStatus).contains("-> " + HOST_SERVER));
      await(
          "the replica to answer through the redirector",
          () -> curl(ORIGIN, 80).stdout().contains("REPLICA"));

      step("request 2: the same URL, now redirected");
      request(80, redirectorStatus, hostStatus);
      step("request 3: another port of the same origin (the paper's client B)");
      request(8080, redirectorStatus, hostStatus);

      step("redirector status");
      Thread.sleep(1_200);
      out.print(indent(read(redirectorStatus)));
      step("host server status");
      out.print(indent(read(hostStatus)));
      if (keepLogs) {
        printLogs();
      }
      step("cleaning up");
      return 0;
    } catch (RuntimeException | IOException | InterruptedException e) {
      if (net != null) {
        printLogs();
      }
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
    net.address("client", "eth0", "198.18.1.10/24");
    net.address("hs", "eth0", HOST_SERVER + "/24");
    net.address("redir", "client0", "198.18.1.1/24");
    net.address("redir", "core0", "198.18.2.1/24");
    net.address("origin", "eth0", ORIGIN + "/24");
    net.defaultRoute("client", "198.18.1.1");
    net.defaultRoute("hs", "198.18.1.1");
    net.defaultRoute("origin", "198.18.2.1");
    // The redirector's kernel must not forward: HydraNet does (checked again at its start).
    net.sysctl("redir", "net.ipv4.ip_forward", "0");
  }

  private static String redirectorConfig(boolean withReplica) {
    String redirects =
        withReplica
            ? "redirects:\n  - service: "
                + ORIGIN
                + ":80/tcp\n    hostServers:\n      - { address: "
                + HOST_SERVER
                + ", weight: 1 }\n"
            : "redirects: []\n";
    return "# written by hydranet demo; MACs are read from the interfaces\n"
        + "interfaces:\n"
        + "  - { name: client0, address: 198.18.1.1/24, mtu: 1500 }\n"
        + "  - { name: core0, address: 198.18.2.1/24, mtu: 1500 }\n"
        + redirects;
  }

  private void request(int port, Path redirectorStatus, Path hostStatus)
      throws InterruptedException {
    Thread.sleep(1_200);
    long forwarded = counter(read(redirectorStatus), "forwarded");
    long redirected = counter(read(redirectorStatus), "redirected");
    long injected = counter(read(hostStatus), "injected");
    ExecResult r = curl(ORIGIN, port);
    Thread.sleep(1_200);
    long df = counter(read(redirectorStatus), "forwarded") - forwarded;
    long dr = counter(read(redirectorStatus), "redirected") - redirected;
    long di = counter(read(hostStatus), "injected") - injected;
    out.println(
        "   client$ curl http://"
            + ORIGIN
            + ":"
            + port
            + "/  ->  "
            + (r.ok() ? r.stdout().strip() : "FAILED " + r.describe()));
    String path =
        dr > 0
            ? "client -> redirector ("
                + dr
                + " packets tunnelled, IP-in-IP) -> host server ("
                + di
                + " injected) -> replica; replies straight to the client"
            : "client -> redirector (" + df + " packets forwarded) -> origin";
    out.println("   path: " + path);
    if (!r.ok()) {
      throw new UserError("demo: the request to port " + port + " failed: " + r.describe());
    }
  }

  private ExecResult curl(String host, int port) {
    return net.exec(
        "client",
        Duration.ofSeconds(8),
        "curl",
        "-s",
        "-m",
        "5",
        "http://" + host + ":" + port + "/");
  }

  private static long counter(String status, String name) {
    for (String line : status.split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 2 && w[0].equals(name)) {
        return Long.parseLong(w[1]);
      }
    }
    return 0;
  }

  /**
   * A static web server in Python's standard library, minus the one thing http.server does that we
   * cannot have here: HTTPServer.server_bind asks DNS for the name of its own address.
   */
  private Path webServer() throws IOException {
    Path file = work.resolve("webserver.py");
    Files.writeString(
        file,
        String.join(
            "\n",
            "import functools, http.server, socketserver, sys",
            "class Server(http.server.ThreadingHTTPServer):",
            "    def server_bind(self):",
            "        socketserver.TCPServer.server_bind(self)",
            "        self.server_name, self.server_port = self.server_address[:2]",
            "handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])",
            "Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()",
            ""));
    return file;
  }

  private Path site(String name, String index) throws IOException {
    Path dir = work.resolve(name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("index.html"), index);
    return dir;
  }

  private void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(200);
    }
    throw new UserError("demo: timed out waiting for " + what);
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private void step(String text) {
    out.println("== " + text);
  }

  private static String indent(String text) {
    StringBuilder sb = new StringBuilder();
    for (String line : text.split("\n")) {
      sb.append("   ").append(line).append('\n');
    }
    return sb.toString();
  }

  private void printLogs() {
    try (var files = Files.list(work)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        out.println("== log " + log.getFileName());
        out.print(indent(Files.readString(log, StandardCharsets.UTF_8)));
      }
    } catch (IOException e) {
      out.println("(cannot list logs: " + e.getMessage() + ")");
    }
  }

  /** How to start this same hydranet: the running java with the running jar. */
  private static List<String> launcher() {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jar;
    try {
      jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new UserError("demo: cannot locate the hydranet jar");
    }
    if (!jar.toString().endsWith(".jar")) {
      throw new UserError("demo: run it from the hydranet jar (bin/hydranet demo)");
    }
    return List.of(java, "-jar", jar.toString());
  }

  private static String[] args(List<String> base, String... more) {
    List<String> all = new ArrayList<>(base);
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }
}
