package net.hydranet.harness.live;

import static net.hydranet.lab.netns.ControlNetwork.HS1;
import static net.hydranet.lab.netns.ControlNetwork.HS2;
import static net.hydranet.lab.netns.ControlNetwork.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ControlNetwork;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.NamespaceNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A host server killed under a UDP flow and a kept-alive TCP connection, in namespaces (issue 20,
 * item 4; {@link ControlNetwork}, prefix {@code hng8}, hold time 500 ms): the UDP flow's datagrams
 * are answered by the other host server's replica within the failover bound, and the TCP connection
 * ends with a RST at its next segment after the failover — counted lost by r1 — instead of waiting
 * on a dead host server.
 */
@Timeout(180)
class DeadHostReleaseIT {
  private static final int UDP_PORT = 5353;
  private static final int HOLD_MILLIS = 500;

  private static ControlNetwork net;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    // Up to 90 s a step: five JVMs start at once on two shared cores.
    net = new ControlNetwork("hng8", List.of(java, "-jar", jar.toString()), Duration.ofSeconds(90));
    net.start(HOLD_MILLIS);
  }

  @AfterAll
  static void close() {
    if (net != null) {
      net.close();
    }
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

  private static long r1Counter(String name) {
    return NamespaceNetwork.counterIn(net.ctl("r1", "status"), name);
  }

  @Test
  void aUdpFlowMovesAndATcpConnectionIsReleasedWhenTheirHostServerIsKilled() throws Exception {
    net.installWebAndUdpReplica("hs1", ORIGIN, "REPLICA hs1\n", UDP_PORT, "REPLICA hs1");
    net.installWebAndUdpReplica("hs2", ORIGIN, "REPLICA hs2\n", UDP_PORT, "REPLICA hs2");
    net.await(
        "r1 to know both host servers",
        () -> {
          String t = net.ctl("r1", "table");
          return t.contains(HS1) && t.contains(HS2) && t.contains(Integer.toString(UDP_PORT));
        });
    Path stop = net.workDir().resolve("stop-clients");
    Process udp = net.udpClient(40_053, UDP_PORT, stop);
    net.await(
        "the UDP flow to be answered by hs1", () -> net.processLog(udp).contains("REPLICA hs1"));
    Process tcp = net.keepAliveClient(stop);
    net.await(
        "the kept-alive connection to be served by hs1",
        () -> net.processLog(tcp).contains("OK REPLICA hs1"));
    // The way to hs2 in use before the failure, as it would be: ARP resolved, replica warm.
    ExecResult ping = net.topology().exec("client", "ping", "-c", "2", "-i", "0.2", HS2);
    assertTrue(ping.ok(), ping.toString());
    ExecResult warm = net.topology().exec("hs2", "curl", "-s", "-m", "5", "http://" + ORIGIN + "/");
    assertEquals("REPLICA hs2", warm.stdout().strip(), warm.toString());

    long killed = System.currentTimeMillis();
    net.kill("hs1");
    net.await("the UDP flow at hs2", () -> firstReplyFrom(net.processLog(udp), "REPLICA hs2") > 0);
    long udpMoved = firstReplyFrom(net.processLog(udp), "REPLICA hs2") - killed;
    assertTrue(tcp.waitFor(15, TimeUnit.SECONDS), "the TCP client still waits");
    long tcpEnded = System.currentTimeMillis() - killed;
    Files.writeString(stop, "stop");
    udp.waitFor(5, TimeUnit.SECONDS);

    String tcpLog = net.processLog(tcp);
    System.out.printf(
        "dead host: SIGKILL hs1 (hold %d ms) -> UDP flow answered by hs2 after %d ms; TCP"
            + " connection ended after %d ms: %s%n",
        HOLD_MILLIS, udpMoved, tcpEnded, tcpLog.lines().reduce((a, b) -> b).orElse(""));
    String status = net.ctl("r1", "status");
    long releasedUdp = NamespaceNetwork.counterIn(status, "flows_released_dead_host_udp");
    long releasedTcp = NamespaceNetwork.counterIn(status, "flows_released_dead_host_tcp");
    System.out.printf(
        "dead host: r1 released %d UDP and %d TCP flows, host servers declared dead %d%n",
        releasedUdp, releasedTcp, r1Counter("host_servers_declared_dead"));

    // The failover bound: the hold time and a 20 ms tick, then the next datagram (20 ms); room
    // for two shared cores.
    assertTrue(udpMoved <= HOLD_MILLIS + 1_000, "UDP moved after " + udpMoved + " ms");
    assertTrue(
        tcpLog.contains("ERROR") && tcpLog.contains("Reset"),
        "the connection ends with a RST, not a timeout:\n" + tcpLog);
    // After the failover, the client's next retransmission (RTO backing off from 200 ms) meets
    // the RST: well inside its 5 s timeout.
    assertTrue(tcpEnded < 4_000, "TCP ended after " + tcpEnded + " ms");
    assertTrue(releasedUdp >= 1, status);
    assertEquals(1, releasedTcp, status);
    assertTrue(r1Counter("host_servers_declared_dead") >= 1, status);
  }
}
