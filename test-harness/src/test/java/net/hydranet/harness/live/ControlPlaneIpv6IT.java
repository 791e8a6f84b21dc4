package net.hydranet.harness.live;

import static net.hydranet.lab.netns.ControlNetwork.HS1;
import static net.hydranet.lab.netns.ControlNetwork.HS2;
import static net.hydranet.lab.netns.ControlNetwork.HS2_6;
import static net.hydranet.lab.netns.ControlNetwork.ORIGIN6;
import static net.hydranet.lab.netns.ControlNetwork.R2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ControlNetwork;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.NamespaceNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * A replica's failover over IPv6 (issue 21), on {@link ControlPlaneIT}'s network made dual-stack
 * ({@link ControlNetwork}, prefix {@code h9b}, hold time 500 ms): hs1 and hs2 each run {@code
 * hydranet vhost --origin 2001:2:0:2::10} with a web server on port 80 and a UDP answerer on 5353,
 * announced over the control plane (version 2) to two {@code hydranet redirector}s; {@code curl -6}
 * on the client is served by the nearer replica (hs1); hs1's host server is SIGKILLed; new flows
 * reach hs2 within the IPv4 test's bound (1 s), the UDP flow moves, and {@code hydranet ctl} on r1
 * shows the IPv6 service with the surviving host server.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(400)
class ControlPlaneIpv6IT {
  private static final int HOLD_MILLIS = 500;
  private static final int UDP_PORT = 5353;
  private static final String WEB = "[" + ORIGIN6 + "]:80/tcp";
  private static final String UDP = "[" + ORIGIN6 + "]:" + UDP_PORT + "/udp";

  private static ControlNetwork net;
  private static Path stop;
  private static Process udp;
  private static long killedAt;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    for (String tool : List.of("curl", "python3", "ping")) {
      assumeTrue(Ipv6Shell.run("sh", "-c", "command -v " + tool).exit == 0, tool + " is installed");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    // Up to 150 s a step: five JVMs start at once on two shared cores (at a load of 40 here, the
    // redirectors had not read their configs 90 s after they were started).
    net = new ControlNetwork("h9b", List.of(java, "-jar", jar.toString()), Duration.ofSeconds(150));
    stop = net.workDir().resolve("stop-clients");
    net.start(HOLD_MILLIS);
  }

  @AfterAll
  static void close() throws Exception {
    if (net != null) {
      Files.writeString(stop, "stop");
      net.close();
    }
  }

  private static String body() {
    ExecResult r = net.curl(ORIGIN6, 0.5);
    return r.ok() ? r.stdout().strip() : "";
  }

  @Test
  @Order(1)
  void learnsTheIpv6ServiceFromBothHostServersAndServesCurl6FromTheNearer() throws Exception {
    net.installWebAndUdpReplica("hs1", ORIGIN6, "REPLICA hs1\n", UDP_PORT, "REPLICA hs1");
    net.installWebAndUdpReplica("hs2", ORIGIN6, "REPLICA hs2\n", UDP_PORT, "REPLICA hs2");
    net.await(
        "r1 to learn both replicas of " + WEB + " and " + UDP,
        () -> {
          String t = net.ctl("r1", "table");
          return section(t, WEB).contains(HS2) && section(t, UDP).contains(HS2);
        });
    String web = section(net.ctl("r1", "table"), WEB);
    assertTrue(candidate(web, true, HS1, "distance 1 +announced directly"), web);
    assertTrue(candidate(web, false, HS2, "distance 2 +via redirector " + quote(R2)), web);
    net.await("curl -6 to be served by a replica", () -> body().startsWith("REPLICA"));
    for (int i = 0; i < 5; i++) {
      assertEquals("REPLICA hs1", body(), "the nearer replica serves new connections");
    }
    // One UDP flow (one source port), kept through the failover.
    udp = net.udpClient(ORIGIN6, 40_053, UDP_PORT, stop);
    net.await("the UDP flow to be answered by hs1", () -> log(udp).contains("REPLICA hs1"));
    // The plane: hs1 takes new flows, hs2 is installed at weight 0 (flows pinned there stay).
    String status = net.ctl("r1", "status");
    String line = serviceLine(status, WEB);
    assertTrue(line.matches(".*" + quote(HS1) + " w=[1-9].*"), "ctl status:\n" + status);
    assertTrue(line.contains(HS2 + " w=0"), "ctl status:\n" + status);
  }

  /** The line of {@code service} in {@code ctl status}: "[…]:80/tcp -> HS w=N, … packets=…". */
  private static String serviceLine(String status, String service) {
    return status.lines().filter(l -> l.strip().startsWith(service + " ->")).findFirst().orElse("");
  }

  @Test
  @Order(2)
  void failsOverWithinOneSecondWhenTheNearerHostServerIsKilled() throws Exception {
    long failover = warmThenKillHs1();
    if (failover > 1000) {
      // As ControlPlaneIT: a timing on two shared cores earns one more trial, both printed.
      System.out.printf(
          "control-plane ipv6: %d ms is over 1 s; hs1 back and killed again%n", failover);
      net.startHostServer("hs1", HOLD_MILLIS);
      net.await("hs1 back at r1", () -> body().equals("REPLICA hs1"));
      failover = Math.min(failover, warmThenKillHs1());
    }
    // The UDP flow, pinned to hs1 since before the first kill, is released to hs2.
    net.await("the UDP flow at hs2", () -> firstReplyFrom(log(udp), "REPLICA hs2") > 0);
    long udpMoved = firstReplyFrom(log(udp), "REPLICA hs2") - killedAt;
    String status = net.ctl("r1", "status");
    long released = NamespaceNetwork.counterIn(status, "flows_released_dead_host_udp");
    System.out.printf(
        "control-plane ipv6: UDP flow [%s]:%d answered by hs2 %d ms after the kill; r1 released"
            + " %d UDP flow(s) from the dead host server%n",
        ORIGIN6, UDP_PORT, udpMoved, released);
    assertTrue(failover <= 1000, "failover took " + failover + " ms with a 500 ms hold time");
    // DeadHostReleaseIT's bound: the hold time, a 20 ms tick and the next datagram, with room.
    assertTrue(udpMoved <= HOLD_MILLIS + 1_000, "UDP moved after " + udpMoved + " ms");
    assertTrue(released >= 1, "the IPv6 flow released as dead, not merely re-chosen\n" + status);
    assertTrue(net.counter("r1", "host_servers_lost") >= 1, net.ctl("r1", "counters"));
    for (int i = 0; i < 3; i++) {
      assertEquals("REPLICA hs2", body(), "curl -6 is served by the surviving replica");
    }
  }

  /**
   * Puts the way to hs2 in use before the failure, as ControlPlaneIT does for IPv4 — the routers
   * have resolved each other's and hs2's neighbours (a ping -6 from the client to hs2 crosses
   * both), and hs2's replica has answered once — then SIGKILLs hs1's host server and returns the
   * milliseconds until a fresh IPv6 connection is served by hs2.
   */
  private static long warmThenKillHs1() throws Exception {
    ExecResult ping = net.topology().exec("client", "ping", "-6", "-c", "2", "-i", "0.2", HS2_6);
    assertTrue(ping.ok(), ping.toString());
    ExecResult warm =
        net.topology().exec("hs2", "curl", "-6", "-s", "-m", "5", "http://[" + ORIGIN6 + "]/");
    assertEquals("REPLICA hs2", warm.stdout().strip(), warm.toString());
    Process probe = net.probeUntil(ORIGIN6, "REPLICA hs2");
    net.await("the probe to start", () -> log(probe).contains("READY"));
    long start = System.currentTimeMillis();
    if (killedAt == 0) {
      killedAt = start;
    }
    net.kill("hs1");
    assertTrue(probe.waitFor(25, TimeUnit.SECONDS), "probe hung");
    String out = log(probe);
    assertTrue(out.contains("SERVED"), "never served by hs2\n" + out + net.logs());
    long failover = Long.parseLong(out.substring(out.indexOf("SERVED") + 7).strip()) - start;
    System.out.printf(
        "control-plane ipv6: SIGKILL hs1 (hold %d ms) -> a new flow to [%s]:80 served by hs2 in"
            + " %d ms; r1 said:%n",
        HOLD_MILLIS, ORIGIN6, failover);
    net.logsOf("r1")
        .lines()
        .filter(l -> l.contains(" event=host-server-lost") || l.contains(ORIGIN6))
        .forEach(l -> System.out.println("    " + l));
    return failover;
  }

  /** What the operator sees on r1 after the failover: the IPv6 services on hs2 alone. */
  @Test
  @Order(3)
  void ctlShowsTheIpv6ServicesOnTheSurvivingHostServer() throws Exception {
    String table = net.ctl("r1", "table");
    for (String service : List.of(WEB, UDP)) {
      String s = section(table, service);
      assertTrue(candidate(s, true, HS2, "distance 2 +via redirector " + quote(R2)), table);
      assertFalse(s.contains(HS1), "the dead host server is gone from " + service + "\n" + table);
    }
    String peers = net.ctl("r1", "peers");
    assertFalse(
        Pattern.compile("(?m)^  " + quote(HS1) + " +up,").matcher(peers).find(),
        "hs1 is no longer up at r1\n" + peers);

    String status = net.ctl("r1", "status");
    String line = serviceLine(status, WEB);
    assertTrue(line.contains(HS2 + " w=") && !line.contains(HS1), "ctl status:\n" + status);
    assertTrue(
        Long.parseLong(line.replaceAll(".*packets=(\\d+).*", "$1")) > 0,
        "packets counted for " + WEB + "\n" + status);

    JsonNode json = new ObjectMapper().readTree(net.ctl("r1", "table --json"));
    JsonNode web = null;
    for (JsonNode s : json.path("table")) {
      if (s.path("service").asText().equals(WEB)) {
        web = s;
      }
    }
    assertTrue(web != null, "ctl table --json lists " + WEB + "\n" + json);
    assertEquals("ipv6", web.path("family").asText(), web.toString());
    assertEquals(ORIGIN6, web.path("address").asText(), web.toString());
    assertEquals(1, web.path("candidates").size(), web.toString());
    JsonNode only = web.path("candidates").get(0);
    assertEquals(HS2, only.path("host_server").asText(), web.toString());
    assertTrue(only.path("selected").asBoolean(), web.toString());
    System.out.printf("control-plane ipv6: r1's table after the failover:%n%s", table);
  }

  /** The lines of {@code service} in a ctl table: its own and its candidates'. */
  static String section(String table, String service) {
    StringBuilder sb = new StringBuilder();
    boolean in = false;
    for (String line : table.split("\n")) {
      if (line.startsWith("  ") && !line.startsWith("    ")) {
        in = line.strip().equals(service);
      }
      if (in) {
        sb.append(line).append('\n');
      }
    }
    return sb.toString();
  }

  /**
   * Whether a section has {@code hostServer} as a candidate, selected or not, and then {@code
   * rest}.
   */
  private static boolean candidate(
      String section, boolean selected, String hostServer, String rest) {
    return Pattern.compile(
            "(?m)^    " + (selected ? "\\*" : " ") + " " + quote(hostServer) + " +" + rest)
        .matcher(section)
        .find();
  }

  private static String quote(String s) {
    return Pattern.quote(s);
  }

  private static long firstReplyFrom(String log, String replica) {
    for (String line : log.split("\n")) {
      String[] w = line.strip().split(" ", 3);
      if (w.length == 3 && w[0].equals("REPLY") && w[2].equals(replica)) {
        return Long.parseLong(w[1]);
      }
    }
    return -1;
  }

  private static String log(Process p) {
    return net.processLog(p);
  }
}
