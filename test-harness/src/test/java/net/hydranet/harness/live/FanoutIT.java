package net.hydranet.harness.live;

import static net.hydranet.lab.netns.PaperNetwork.ORIGIN;
import static net.hydranet.lab.netns.PaperNetwork.ORIGIN6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.PaperNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A redirector with two forwarding pipelines ({@code limits.pipelines: 2}) in the paper's network:
 * PACKET_FANOUT spreads many flows over both, each flow's frames meet one pipeline only, and
 * fragmented datagrams still pass. Fed by interface ({@code pipelineFeed: interface}) instead, each
 * pipeline reads one interface: the clients' side (client0, pipeline 0) records every flow, the
 * origin's side (core0, pipeline 1) carries their replies, and each sends onto the other's
 * interface through a transmit ring of its own. Both run dual-stack: IPv6 passes too, its
 * neighbours learned by whichever pipeline hears their answers and shared with the other.
 */
class FanoutIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PIPELINE =
      Pattern.compile(
          "pipeline (\\d+): rx_frames=(\\d+) forwarded=(\\d+) redirected=(\\d+)"
              + " flows_created=(\\d+)");

  /** iperf3 -P 16: one control connection and 16 data connections. */
  private static final int STREAMS = 16;

  @Test
  @Timeout(180)
  void shouldSpreadFlowsOverTwoPipelinesWithEveryFlowOnOne() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    assumeTrue(onPath("iperf3") && onPath("ping"), "needs iperf3 and ping (bin/setup)");
    String java = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net =
        new PaperNetwork("hng1", List.of(java, "-jar", jar.toString())).pipelines(2).dualStack()) {
      net.start();
      var topo = net.topology();
      // A service on iperf3's port whose one host server is drained: its flows go to the origin,
      // and every packet of them, client to origin, consults its pipeline's connection table,
      // which records a flow the first time that pipeline sees it. So the flows created over all
      // pipelines are the connections made exactly when no flow's frames met two pipelines.
      net.redirect(5201, "tcp", 0);
      topo.spawn("origin", "iperf3", "-s", "-p", "5201", "-B", ORIGIN);
      net.await(
          "iperf3 to listen on the origin",
          () -> topo.exec("origin", "ss", "-ltn").stdout().contains(ORIGIN + ":5201"));
      long[][] before = pipelines(net.redirectorStatus());

      long received = iperf3(net, ORIGIN, 5201, STREAMS);

      // The status file is rewritten every second: wait until it shows every connection, then
      // once more, so that a flow counted twice would have shown too.
      int connections = STREAMS + 1;
      net.await(
          "the status file to show " + connections + " new flows",
          () -> sum(delta(before, pipelines(net.redirectorStatus())), 4) >= connections);
      Thread.sleep(2_200);
      String status = net.redirectorStatus();
      long[][] d = delta(before, pipelines(status));
      System.out.printf(
          "iperf3 -P %d through 2 pipelines: %.1f Mbit/s; per pipeline rx_frames %d / %d,"
              + " flows created %d / %d%n",
          STREAMS, received * 8 / 3e6, d[0][1], d[1][1], d[0][4], d[1][4]);
      assertEquals(2, d.length, status);
      assertEquals(connections, sum(d, 4), "each flow recorded by one pipeline only:\n" + status);
      for (int p = 0; p < 2; p++) {
        assertTrue(d[p][1] > 0, "pipeline " + p + " received frames:\n" + status);
        assertTrue(d[p][2] > 0, "pipeline " + p + " forwarded frames:\n" + status);
        assertTrue(d[p][4] > 0, "pipeline " + p + " recorded flows:\n" + status);
      }

      // 3000-byte echoes leave the client in fragments, each hashed by its addresses alone (no
      // ports): every fragment of a datagram meets one pipeline, which forwards them all.
      ping(net, ORIGIN);
      ipv6(net);
    }
  }

  @Test
  @Timeout(180)
  void fedByInterfaceEachPipelineReadsOneSideAndSendsOnTheOther() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    assumeTrue(onPath("iperf3") && onPath("ping"), "needs iperf3 and ping (bin/setup)");
    String java = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net =
        new PaperNetwork("hng2", List.of(java, "-jar", jar.toString()))
            .pipelines(2)
            .redirectorLimits("pipelineFeed: interface")
            .dualStack()) {
      net.start();
      assertTrue(
          net.logs().contains("2 forwarding pipelines, each reading its own interfaces"),
          net.logs());
      var topo = net.topology();
      // As above: the drained service's flows go to the origin, each looked up (and recorded) by
      // the pipeline that reads the client's side.
      net.redirect(5201, "tcp", 0);
      topo.spawn("origin", "iperf3", "-s", "-p", "5201", "-B", ORIGIN);
      net.await(
          "iperf3 to listen on the origin",
          () -> topo.exec("origin", "ss", "-ltn").stdout().contains(ORIGIN + ":5201"));
      long[][] before = pipelines(net.redirectorStatus());
      int streams = 4;
      long received = iperf3(net, ORIGIN, 5201, streams);

      int connections = streams + 1;
      net.await(
          "the status file to show " + connections + " new flows",
          () -> sum(delta(before, pipelines(net.redirectorStatus())), 4) >= connections);
      Thread.sleep(2_200);
      String status = net.redirectorStatus();
      long[][] d = delta(before, pipelines(status));
      System.out.printf(
          "iperf3 -P %d through 2 pipelines fed by interface: %.1f Mbit/s; per pipeline"
              + " rx_frames %d / %d, forwarded %d / %d, flows created %d / %d%n",
          streams, received * 8 / 3e6, d[0][1], d[1][1], d[0][2], d[1][2], d[0][4], d[1][4]);
      assertEquals(2, d.length, status);
      assertEquals(connections, d[0][4], "the clients' side records every flow:\n" + status);
      assertEquals(0, d[1][4], "the origin's side looks no flow up:\n" + status);
      // The data went client0 -> core0 (pipeline 0 sending on core0's second ring), the ACKs
      // core0 -> client0 (pipeline 1 sending on client0's).
      assertTrue(d[0][2] > 1_000, "pipeline 0 forwarded the data:\n" + status);
      assertTrue(d[1][2] > 100, "pipeline 1 forwarded the replies:\n" + status);

      ping(net, ORIGIN);
      ipv6(net);
    }
  }

  /**
   * IPv6 through both pipelines: the redirector learns the client and the origin by neighbour
   * discovery, whose answers may reach a pipeline other than the one that asked (the other side's,
   * fed by interface; another hash, fed by flow), so each pipeline must hear what the other did. An
   * iperf3 over IPv6 and fragmented IPv6 echoes must both pass.
   */
  private static void ipv6(PaperNetwork net) throws Exception {
    net.topology().spawn("origin", "iperf3", "-s", "-p", "5202", "-B", ORIGIN6);
    net.await(
        "iperf3 to listen on the origin's IPv6 address",
        () -> net.topology().exec("origin", "ss", "-ltn").stdout().contains(ORIGIN6 + "]:5202"));
    long[][] before = pipelines(net.redirectorStatus());
    long received = iperf3(net, ORIGIN6, 5202, 4);
    ping(net, ORIGIN6);
    net.await(
        "the status file to show the IPv6 frames",
        () -> sum(delta(before, pipelines(net.redirectorStatus())), 2) > 1_000);
    long[][] d = delta(before, pipelines(net.redirectorStatus()));
    System.out.printf(
        "IPv6 iperf3 -P 4 through 2 pipelines: %.1f Mbit/s; per pipeline forwarded %d / %d%n",
        received * 8 / 3e6, d[0][2], d[1][2]);
  }

  /** iperf3 -P {@code streams} for 3 s from the client; returns the bytes the server received. */
  private static long iperf3(PaperNetwork net, String server, int port, int streams)
      throws Exception {
    ExecResult r =
        net.topology()
            .exec(
                "client",
                Duration.ofSeconds(60),
                "iperf3",
                "-c",
                server,
                "-p",
                Integer.toString(port),
                "-P",
                Integer.toString(streams),
                "-t",
                "3",
                "-J");
    assertEquals(0, r.exitCode(), "iperf3 to " + server + ": " + r.describe() + "\n" + net.logs());
    JsonNode end = JSON.readTree(r.stdout()).path("end");
    assertEquals(streams, end.path("streams").size(), r.stdout());
    long received = end.path("sum_received").path("bytes").asLong();
    assertTrue(received > 1_000_000, "bytes received from " + server + ": " + received);
    return received;
  }

  /** Three 3000-byte echoes (fragmented on the way) from the client; all must come back. */
  private static void ping(PaperNetwork net, String address) {
    ExecResult ping =
        net.topology()
            .exec(
                "client",
                Duration.ofSeconds(20),
                "ping",
                "-c",
                "3",
                "-i",
                "0.3",
                "-s",
                "3000",
                address);
    assertEquals(0, ping.exitCode(), "ping -s 3000 " + address + ": " + ping.describe());
    assertTrue(ping.stdout().contains("3 received"), ping.stdout());
  }

  /** Each pipeline's {rx_frames, forwarded, redirected, flows_created} from the status file. */
  private static long[][] pipelines(String status) {
    Matcher m = PIPELINE.matcher(status);
    long[][] out = new long[0][];
    while (m.find()) {
      int p = Integer.parseInt(m.group(1));
      if (p >= out.length) {
        out = java.util.Arrays.copyOf(out, p + 1);
      }
      // Index 1..4 as in the regex, so that d[p][1] is rx_frames and d[p][4] flows_created.
      out[p] =
          new long[] {
            p,
            Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4)),
            Long.parseLong(m.group(5))
          };
    }
    return out;
  }

  private static long[][] delta(long[][] before, long[][] after) {
    long[][] d = new long[after.length][];
    for (int p = 0; p < after.length; p++) {
      d[p] = after[p].clone();
      if (p < before.length && before[p] != null) {
        for (int i = 1; i < d[p].length; i++) {
          d[p][i] -= before[p][i];
        }
      }
    }
    return d;
  }

  private static long sum(long[][] rows, int column) {
    long sum = 0;
    for (long[] row : rows) {
      if (row != null) {
        sum += row[column];
      }
    }
    return sum;
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
