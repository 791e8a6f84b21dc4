package net.hydranet.harness.live;

import static net.hydranet.lab.netns.WebNetwork.CLIENT6;
import static net.hydranet.lab.netns.WebNetwork.HS1;
import static net.hydranet.lab.netns.WebNetwork.ORIGIN6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.hydranet.lab.netns.ExecResult;
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
 * HydraWeb serves over IPv6 (issue 21, item 4): {@link HydraWebIT}'s network made dual-stack
 * ({@link WebNetwork#dualStack}), with the replica of the origin's IPv6 address {@value
 * WebNetwork#ORIGIN6}. The manager (on the origin, speaking to hs1 over IPv4 as always) installs a
 * bundle whose {@code HydraNet-Origin} is the IPv6 address; hs1 runs it in an IPv6 virtual host and
 * announces {@code [2001:2:0:2::10]:80/tcp}; r1 learns it and tunnels the client's IPv6 packets to
 * hs1 in IPv4 (protocol 41). Real clients ({@code curl -6}, headless Chromium when installed) get a
 * pre-heated page from the replica, a miss the manager fetched from nginx over IPv6, the origin's
 * access rule for the client's IPv6 LAN, a pushed change, and after the removal nginx again.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(180)
class HydraWebIpv6IT {
  private static final String SERVICE6 = "[" + ORIGIN6 + "]:80/tcp";

  private static WebNetwork net;
  private static WebReplicas replicas;
  private static HydraWebSteps steps;

  @BeforeAll
  static void start() throws Exception {
    List<String> lab = HydraWebSteps.labCommand();
    Path hydraweb = HydraWebSteps.hydrawebJar();
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    for (String tool : List.of("curl", "nginx", "ip", "ethtool", "nft")) {
      assumeTrue(Ipv6Shell.onPath(tool), tool + " installed");
    }
    Ipv6Shell.removeStaleVhosts(ORIGIN6);
    // No WAN delay: the path under test is the family, not the distance (HydraWebIT has both).
    net = new WebNetwork("h9c", lab, 0, true);
    steps = new HydraWebSteps(net, true);
    replicas = new WebReplicas(net, hydraweb, ORIGIN6);
    net.start(replicas.hostServerConfig());
    replicas.startManager(false);
  }

  @AfterAll
  static void stop() throws Exception {
    if (net != null) {
      net.close();
    }
    Ipv6Shell.removeStaleVhosts(ORIGIN6);
  }

  @Test
  @Order(1)
  void beforeAnyReplicaCurl6ReachesTheOriginsNginxThroughTheRedirector() {
    steps.assertServed("/page-007.html", "nginx", "page 007");
    assertTrue(
        net.originAccessLog().contains(CLIENT6 + " GET /page-007.html "), net.originAccessLog());
    assertFalse(net.ctl("r1", "table").contains(SERVICE6), net.ctl("r1", "table"));
  }

  @Test
  @Order(2)
  void theManagerInstallsAReplicaOfTheIpv6OriginThatTheRedirectorLearns() throws Exception {
    // Until curl -6 is answered by HydraWeb and the manager says "hot".
    steps.install(replicas, "IPv6 replica answering curl -6 through r1");
    String table = net.ctl("r1", "table");
    System.out.println(table);
    assertTrue(table.contains(SERVICE6) && table.contains(HS1), table);
    String hs = net.ctl("hs1", "replicas");
    System.out.println(hs);
    assertTrue(hs.matches("(?s).*web-1\\s+running.*"), hs);
    assertTrue(hs.contains(ORIGIN6), "the replica's origin, as RFC 5952 writes it: " + hs);
    String status = net.ctl("manager", "status");
    System.out.println(status);
    assertTrue(status.matches("(?s).*web-1\\s+\\S+\\s+hot\\s.*"), status);
  }

  @Test
  @Order(3)
  void aPreHeatedPageIsServedOverIpv6WithoutTheOrigin() throws Exception {
    steps.assertServed("/page-042.html", "HydraWeb", "page 042");
    // nginx logs every request (the manager's HEAD / probes too): none for this page.
    assertFalse(net.originAccessLog().contains("GET /page-042.html"), net.originAccessLog());
    net.await("the hit to be metered", () -> steps.hits("/page-042.html") >= 1);
  }

  @Test
  @Order(4)
  void aMissIsFetchedByTheManagerFromTheOriginOverIpv6() throws Exception {
    steps.assertServed("/nostore/page.html", "HydraWeb", "page 999");
    // The manager, beside nginx, asked http://[2001:2:0:2::10]:80: from the origin's IPv6 address.
    String log = net.originAccessLog();
    assertEquals(1, count(log, ORIGIN6 + " GET /nostore/page.html HTTP/1.1"), log);
    // no-store: the replica kept no copy, so the next request is a miss fetched again.
    assertTrue(net.curl6("/nostore/page.html", 5).stdout().contains("page 999"));
    log = net.originAccessLog();
    assertEquals(2, count(log, ORIGIN6 + " GET /nostore/page.html HTTP/1.1"), log);
    assertFalse(log.contains(CLIENT6 + " GET /nostore/"), "the client never reached nginx: " + log);
    ExecResult absent = net.curl6("/no-such-page.html", 5);
    assertTrue(absent.stdout().startsWith("HTTP/1.1 404"), absent.stdout());
    assertTrue(absent.stdout().contains("Server: HydraWeb"), absent.stdout());
  }

  @Test
  @Order(5)
  void theOriginsAccessRuleCoversTheClientsIpv6Lan() {
    steps.assertAccessRuleAtTheReplica();
  }

  @Test
  @Order(6)
  void aChangedPageIsPushedToTheIpv6Replica() throws Exception {
    steps.pushChangedPage("the IPv6 replica to serve the new page-001", "served over IPv6");
    assertFalse(net.originAccessLog().contains("GET /page-001.html"), net.originAccessLog());
  }

  @Test
  @Order(7)
  void headlessChromiumRendersTheReplicasPageOverIpv6() throws Exception {
    assumeTrue(
        Ipv6Shell.run("sh", "-c", "command -v chromium").exit == 0,
        "needs Debian's chromium (bin/setup installs it)");
    long hitsBefore = steps.hits("/page-050.html");
    Path profile = Files.createTempDirectory("h9c-chromium");
    try {
      ExecResult r =
          net.topology()
              .exec(
                  "client",
                  Duration.ofSeconds(60),
                  "chromium",
                  "--headless",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-quic",
                  "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--user-data-dir=" + profile,
                  "--dump-dom",
                  "http://[" + ORIGIN6 + "]/page-050.html");
      assertTrue(r.ok(), "chromium: " + r.describe());
      assertTrue(r.stdout().contains("<h1>page 050</h1>"), r.stdout());
    } finally {
      Ipv6Shell.run("rm", "-rf", profile.toString());
    }
    net.await("Chromium's hit to be metered", () -> steps.hits("/page-050.html") > hitsBefore);
    assertFalse(net.originAccessLog().contains("GET /page-050.html"), net.originAccessLog());
  }

  @Test
  @Order(8)
  void theRemovedReplicaDrainsItsIpv6ServiceAndNginxAnswersAgain() throws Exception {
    String answer = net.ctl("manager", "remove web-1");
    assertTrue(answer.startsWith("OK"), answer);
    String hsLog = net.logsOf("hs1");
    assertTrue(hsLog.contains("draining " + SERVICE6 + ": weight 0"), hsLog);
    net.await("r1 to forget the IPv6 replica", () -> !net.ctl("r1", "table").contains(SERVICE6));
    ExecResult after = net.curl6("/page-042.html", 5);
    assertTrue(after.stdout().contains("Server: nginx"), after.stdout());
    assertTrue(
        net.originAccessLog().contains(CLIENT6 + " GET /page-042.html "), net.originAccessLog());
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }
}
