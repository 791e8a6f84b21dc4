package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * HydraWeb's network: the paper's figure 5. A client and a host server on one LAN behind a
 * redirector; the origin — a real nginx and HydraWeb's replica manager — across a WAN of our own
 * ({@code hydranet wan}, a delay line) or, with no delay, a plain link.
 *
 * <pre>
 *  client .1.10 ─┐
 *  hs1    .1.20 ─┼─ lan ─ client0 [r1] core0 ── a0 [wan] b0 ── eth0 origin .2.10
 *                   .1.1              .2.1                       nginx :80, manager
 * </pre>
 *
 * The redirector has no static redirect: it learns the replica from hs1 through the control plane.
 * The manager talks to hs1's replica service (TCP 6227) across the WAN from its own address {@link
 * #MANAGER}. hs1 also runs a second nginx on its own address, port 8080, serving the same site: the
 * "local web server" that a hit is compared with. Namespaces are {@code <prefix>-lan, -client,
 * -hs1, -r1, -wan, -origin}.
 *
 * <p>Dual-stack ({@link #dualStack}, issue 21): every node also has its IPv6 twin in 2001:2::/48
 * ({@link #CLIENT6}, {@link #HS1_6}, {@link #ORIGIN6}; r1 {@code 2001:2:0:1::1} and {@code
 * 2001:2:0:2::1}), the origin's nginx listens on both, and r1 may redirect the IPv6 origin's
 * services to hs1 (IPv6 in IPv4, protocol 41): a replica of the IPv6 origin is learned as one of
 * the IPv4 origin is. The manager still speaks to hs1 over IPv4.
 */
public final class WebNetwork extends NamespaceNetwork {
  public static final String CLIENT = "198.18.1.10";
  public static final String R1 = "198.18.1.1";
  public static final String R1_CORE = "198.18.2.1";
  public static final String HS1 = "198.18.1.20";
  public static final String ORIGIN = "198.18.2.10";

  public static final String CLIENT6 = "2001:2:0:1::10";
  public static final String R1_6 = "2001:2:0:1::1";
  public static final String HS1_6 = "2001:2:0:1::20";
  public static final String R1_CORE6 = "2001:2:0:2::1";

  /** The origin's IPv6 address: a replica of it serves as {@code [2001:2:0:2::10]:80}. */
  public static final String ORIGIN6 = "2001:2:0:2::10";

  /**
   * The origin's replica manager speaks from an address of its own: a host server routes every
   * address it serves as a virtual host into that virtual host, so a manager on the served address
   * could not reach a host server running its replica.
   */
  public static final String MANAGER = "198.18.2.100";

  public static final int LOCAL_PORT = 8080;

  /** The example site's template page: a banner slot the replicas fill per response. */
  public static final String TEMPLATE_PAGE = "/offers.shtml";

  private final Path site;
  private final int oneWayDelayMillis;
  private final boolean dualStack;
  private String r1Metrics = "off";
  private String hs1Metrics = "off";
  private String managerMetrics = "off";

  /**
   * Builds the namespaces; {@code oneWayDelayMillis} 0 joins r1 and the origin directly, anything
   * else puts {@code hydranet wan} between them with that delay each way.
   */
  public WebNetwork(String prefix, List<String> hydranet, int oneWayDelayMillis)
      throws IOException {
    this(prefix, hydranet, oneWayDelayMillis, false);
  }

  /** As above; {@code dualStack} adds the IPv6 side (see the class comment). */
  public WebNetwork(String prefix, List<String> hydranet, int oneWayDelayMillis, boolean dualStack)
      throws IOException {
    super(prefix, hydranet, Duration.ofSeconds(40), 50);
    this.oneWayDelayMillis = oneWayDelayMillis;
    this.dualStack = dualStack;
    this.site = work.resolve("site");
    build(
        () -> {
          wiring();
          keys("r1", "hs1", "origin", "stranger");
          exampleSite(site);
        });
  }

  private void wiring() {
    namespaces("lan", "client", "hs1", "r1", "origin");
    segment(
        "lan",
        port("client", "eth0", "c0"),
        port("hs1", "eth0", "h1"),
        port("r1", "client0", "r1"));
    if (oneWayDelayMillis > 0) {
      net.namespace("wan");
      wire("r1", "core0", "wan", "a0");
      wire("wan", "b0", "origin", "eth0");
    } else {
      wire("r1", "core0", "origin", "eth0");
    }
    host("client", CLIENT, R1);
    host("hs1", HS1, R1);
    host("origin", ORIGIN, R1_CORE);
    net.address("origin", "eth0", MANAGER + "/24");
    redirector("r1", "client0", R1, "core0", R1_CORE);
    if (dualStack) {
      net.address6("client", "eth0", CLIENT6 + "/64");
      net.defaultRoute6("client", R1_6);
      net.address6("hs1", "eth0", HS1_6 + "/64");
      net.defaultRoute6("hs1", R1_6);
      net.address6("origin", "eth0", ORIGIN6 + "/64");
      net.defaultRoute6("origin", R1_CORE6);
      // The redirector's kernel holds its addresses too (as for IPv4), and forwards nothing.
      net.address6("r1", "client0", R1_6 + "/64");
      net.address6("r1", "core0", R1_CORE6 + "/64");
      net.sysctl("r1", "net.ipv6.conf.all.forwarding", "0");
    }
  }

  public boolean dualStack() {
    return dualStack;
  }

  /**
   * The bundled example origin site: an index, 100 pages of 1200 bytes (the paper's page size), a
   * page under /nostore/ that nginx marks {@code Cache-Control: no-store} (so every request for it
   * is a miss that the manager answers), a /private/ area the access rules keep from the client's
   * LAN, and {@link #TEMPLATE_PAGE}, a template with a {@code {{banner}}} slot (the paper's
   * advertising banner) that the replicas render.
   */
  public static Path exampleSite(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("nostore"));
    Files.createDirectories(dir.resolve("private"));
    Files.writeString(dir.resolve("index.html"), "ORIGIN " + ORIGIN + "\n");
    for (int i = 0; i < 100; i++) {
      Files.writeString(dir.resolve(String.format("page-%03d.html", i)), page(i, 1200));
    }
    Files.writeString(dir.resolve("nostore/page.html"), page(999, 1200));
    Files.writeString(dir.resolve("private/report.html"), "private report\n");
    Files.writeString(dir.resolve(TEMPLATE_PAGE.substring(1)), offers("offers of the day"));
    readableByAll(dir);
    return dir;
  }

  /** The template page's text: {@code headline}, and a banner slot. */
  public static String offers(String headline) {
    return "<html><body><h1>"
        + headline
        + "</h1><p class=\"banner\">{{banner}}</p></body></html>\n";
  }

  /** A page of exactly {@code size} bytes whose first line names it. */
  public static String page(int n, int size) {
    String head = String.format("<html><body><h1>page %03d</h1><p>", n);
    String tail = "</p></body></html>\n";
    StringBuilder sb = new StringBuilder(head);
    String words = "hydranet replica redirector host server origin cache page ";
    while (sb.length() < size - tail.length()) {
      sb.append(words);
    }
    sb.setLength(size - tail.length());
    return sb + tail;
  }

  private static void readableByAll(Path dir) throws IOException {
    try (var s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        Files.setPosixFilePermissions(
            p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    for (Path p = dir.getParent(); p != null && !p.equals(Path.of("/tmp")); p = p.getParent()) {
      if (p.getParent() == null) {
        break;
      }
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /**
   * Where r1, hs1 and the manager serve {@code /metrics} ("HOST:PORT", each bound in its own
   * namespace), or "off" (the default) for any of them; before {@link #start}.
   */
  public WebNetwork metrics(String r1, String hs1, String manager) {
    this.r1Metrics = r1;
    this.hs1Metrics = hs1;
    this.managerMetrics = manager;
    return this;
  }

  public Path site() {
    return site;
  }

  /** Starts the WAN (if any), both nginx, the redirector and the host server; waits for them. */
  public WebNetwork start(String hostServerReplicas) throws IOException, InterruptedException {
    if (oneWayDelayMillis > 0) {
      String status = work.resolve("wan.status").toString();
      String delay = oneWayDelayMillis + "ms";
      daemons.put(
          "wan",
          spawnHydranet(
              "wan", "wan", "--a", "a0", "--b", "b0", "--delay", delay, "--status", status));
    }
    daemons.put(
        "nginx-origin",
        dualStack
            ? nginx("origin", List.of(ORIGIN, "[" + ORIGIN6 + "]"), 80)
            : nginx("origin", ORIGIN, 80));
    daemons.put("nginx-local", nginx("hs1", HS1, LOCAL_PORT));
    String v6 = dualStack ? ", address6: \"%s/64\"" : "";
    write(
        "r1.yaml",
        String.format(
            "interfaces:%n  - { name: client0, address: %s/24"
                + v6
                + " }%n"
                + "  - { name: core0, address: %s/24"
                + v6
                + " }%nroutes: []%nredirects: []%n",
            dualStack ? new Object[] {R1, R1_6, R1_CORE, R1_CORE6} : new Object[] {R1, R1_CORE}));
    write(
        "r1-control.yaml",
        String.format(
                "address: %s%nkey: keys/r1.key%nholdMillis: 1500%n"
                    + "hostServers:%n  - { address: %s, key: keys/hs1.pub, cost: 1 }%n"
                    + "authorise:%n  - { origins: %s/32, hostServers: [%s] }%n",
                R1, HS1, ORIGIN, HS1)
            + (dualStack
                ? String.format("  - { origins: \"%s/128\", hostServers: [%s] }%n", ORIGIN6, HS1)
                : ""));
    write(
        "hs1-control.yaml",
        String.format(
                "address: %s%nkey: keys/hs1.key%nholdMillis: 1500%ndrainSeconds: 1%n"
                    + "redirectors:%n  - { address: %s, key: keys/r1.pub }%n",
                HS1, R1)
            + hostServerReplicas);
    startControlledRedirector("r1", r1Metrics);
    startControlledHostServer("hs1", HS1, work.resolve("state-hs1"), hs1Metrics);
    awaitStart("the origin's nginx to answer through r1", () -> curl("/index.html", 3).ok());
    awaitStart("the local nginx to answer", () -> curlLocal("/index.html", 3).ok());
    awaitStart("r1 to hear hs1", () -> ctl("r1", "peers").contains(HS1 + " "));
    if (dualStack) {
      awaitStart(
          "the origin's nginx to answer over IPv6 through r1", () -> curl6("/index.html", 3).ok());
    }
    return this;
  }

  /**
   * A real nginx in {@code ns} on {@code address:port} serving the example site, one worker, no
   * access log; {@code /nginx_status} (stub_status) answers its own address only.
   */
  private Process nginx(String ns, String address, int port) throws IOException {
    return nginx(ns, List.of(address), port);
  }

  /**
   * As above on several addresses (an IPv6 one in brackets), with stub_status for each; a
   * dual-stack network's nginx also logs each request's client address and request line to {@code
   * nginx-NS/logs/access.log}, so a test can tell over which family a fetch came.
   */
  private Process nginx(String ns, List<String> addresses, int port) throws IOException {
    Path dir = work.resolve("nginx-" + ns);
    Files.createDirectories(dir.resolve("logs"));
    Path conf = dir.resolve("nginx.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "worker_processes 1;",
            "user nobody nogroup;",
            "pid " + dir.resolve("nginx.pid") + ";",
            "error_log " + dir.resolve("logs/error.log") + " warn;",
            "events { worker_connections 4096; }",
            "http {",
            dualStack ? "  log_format hn '$remote_addr $request';" : "",
            dualStack
                ? "  access_log " + dir.resolve("logs/access.log") + " hn;"
                : "  access_log off;",
            "  client_body_temp_path " + dir.resolve("body") + ";",
            "  proxy_temp_path " + dir.resolve("proxy") + ";",
            "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";",
            "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";",
            "  scgi_temp_path " + dir.resolve("scgi") + ";",
            "  types { text/html html shtml; application/octet-stream bin; }",
            "  default_type application/octet-stream;",
            "  keepalive_requests 100000;",
            "  server {",
            listen(addresses, port),
            "    root " + site + ";",
            "    location /nostore/ { add_header Cache-Control no-store; }",
            "    location = /nginx_status { stub_status; " + allow(addresses) + "deny all; }",
            "  }",
            "}",
            ""));
    return net.spawn(ns, "nginx", "-p", dir.toString(), "-c", conf.toString(), "-g", "daemon off;");
  }

  private static String listen(List<String> addresses, int port) {
    StringBuilder sb = new StringBuilder();
    for (String a : addresses) {
      sb.append(sb.length() == 0 ? "" : "\n").append("    listen ").append(a).append(':');
      sb.append(port).append(" backlog=4096;");
    }
    return sb.toString();
  }

  private static String allow(List<String> addresses) {
    StringBuilder sb = new StringBuilder();
    for (String a : addresses) {
      sb.append("allow ").append(a.replace("[", "").replace("]", "")).append("; ");
    }
    return sb.toString();
  }

  /**
   * What the origin's nginx logged (dual-stack only): "CLIENT-ADDRESS GET /path HTTP/1.1" lines.
   */
  public String originAccessLog() {
    return read(work.resolve("nginx-origin/logs/access.log"));
  }

  /** Starts HydraWeb's replica manager on the origin with {@code config} (written to a file). */
  public Process startManager(String config) throws IOException {
    write("manager.yaml", config);
    String file = work.resolve("manager.yaml").toString();
    Process p =
        spawnHydranet(
            "origin",
            "manager",
            "--config",
            file,
            "--ctl-socket",
            ctlPath("manager").toString(),
            "--metrics",
            managerMetrics);
    daemons.put("manager", p);
    return p;
  }

  /** One HTTP GET from the client to the origin's address, {@code -i}: status line and headers. */
  public ExecResult curl(String path, double maxSeconds) {
    return curlFrom("client", "http://" + ORIGIN + path, maxSeconds);
  }

  /** {@code curl -6}: one HTTP GET from the client's IPv6 address to the origin's. */
  public ExecResult curl6(String path, double maxSeconds) {
    return curlFrom("client", "http://[" + ORIGIN6 + "]" + path, maxSeconds, "-6");
  }

  /** One HTTP GET from the client to the local nginx on hs1. */
  public ExecResult curlLocal(String path, double maxSeconds) {
    return curlFrom("client", "http://" + HS1 + ":" + LOCAL_PORT + path, maxSeconds);
  }

  public ExecResult curlFrom(String ns, String url, double maxSeconds, String... options) {
    List<String> argv = new java.util.ArrayList<>(List.of("curl", "-s", "-i", "--fail-with-body"));
    argv.addAll(List.of(options));
    argv.addAll(List.of("-m", Double.toString(maxSeconds), url));
    return net.exec(
        ns, Duration.ofMillis((long) (maxSeconds * 1000) + 2000), argv.toArray(new String[0]));
  }
}
