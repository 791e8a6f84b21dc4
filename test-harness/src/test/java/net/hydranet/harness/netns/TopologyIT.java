package net.hydranet.harness.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.Topology;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * System test: real namespaces and veth links (needs root, iproute2, ethtool and ping).
 *
 * <pre>
 *  hnx1-client            hnx1-router               hnx1-server
 *  eth0 198.18.1.1/24 ── eth0 198.18.1.254/24
 *                         eth1 198.18.2.254/24 ── eth0 198.18.2.1/24
 * </pre>
 */
class TopologyIT {
  @BeforeAll
  static void requireRootAndTools() throws Exception {
    Assumptions.assumeTrue(isRoot(), "namespace tests need root");
    for (String tool : new String[] {"ip", "ethtool", "ping"}) {
      Assumptions.assumeTrue(onPath(tool), tool + " not installed");
    }
  }

  @Test
  void shouldPingThroughRouterNamespaceAndLeaveNothingBehind() throws Exception {
    Topology topology = Topology.create("hnx1");
    try (topology) {
      topology
          .namespace("client")
          .namespace("router")
          .namespace("server")
          .link("client", "eth0", "router", "eth0")
          .link("router", "eth1", "server", "eth0")
          .address("client", "eth0", "198.18.1.1/24")
          .address("router", "eth0", "198.18.1.254/24")
          .address("router", "eth1", "198.18.2.254/24")
          .address("server", "eth0", "198.18.2.1/24")
          .route("client", "198.18.2.0/24", "198.18.1.254")
          .route("server", "198.18.1.0/24", "198.18.2.254")
          .sysctl("router", "net.ipv4.ip_forward", "1")
          .offloadsOff("client", "eth0")
          .offloadsOff("router", "eth0");

      assertEquals(
          "1", topology.exec("router", "sysctl", "-n", "net.ipv4.ip_forward").stdout().strip());
      long clientMac = topology.mac("client", "eth0");
      assertNotEquals(0, clientMac);
      assertNotEquals(clientMac, topology.mac("router", "eth0"));

      ExecResult ping = topology.exec("client", "ping", "-c", "2", "-W", "1", "198.18.2.1");
      assertTrue(ping.ok(), ping.describe());
      assertTrue(ping.stdout().contains("2 received"), ping.describe());

      // A background process is running in its namespace until close.
      Process sleeper = topology.spawn("server", "sleep", "60");
      assertTrue(sleeper.isAlive());

      assertThrows(
          IllegalArgumentException.class,
          () -> topology.address("client", "eth0", "10.1.1.1/24"),
          "addresses outside 198.18.0.0/15 are refused");

      topology.close();
      assertFalse(sleeper.isAlive(), "spawned process killed on close");
    }
    assertGone("hnx1");
  }

  @Test
  void shouldCleanUpRootLinksAndStaleLeftovers() throws Exception {
    // A leftover from a "crashed" run: a namespace and a root link with the prefix.
    assertTrue(run("ip", "netns", "add", "hnx2-stale") == 0);
    assertTrue(
        run("ip", "link", "add", "hnx2-old", "type", "veth", "peer", "name", "hnx2-oldp") == 0);

    try (Topology topology = Topology.create("hnx2")) {
      assertTrue(topology.existingNamespaces().isEmpty(), "stale namespace deleted on create");
      assertTrue(topology.existingRootLinks().isEmpty(), "stale link deleted on create");
      topology
          .namespace("a")
          .link(null, "hnx2-root", "a", "eth0")
          .address(null, "hnx2-root", "198.18.9.1/30")
          .address("a", "eth0", "198.18.9.2/30");
      ExecResult ping = topology.exec(null, "ping", "-c", "1", "-W", "1", "198.18.9.2");
      assertTrue(ping.ok(), ping.describe());
      assertThrows(
          IllegalArgumentException.class,
          () -> topology.link(null, "veth9", "a", "eth1"),
          "root links must carry the prefix");
      // A command that overstays its timeout is killed and reported, not waited for.
      ExecResult slow = topology.exec("a", java.time.Duration.ofMillis(300), "sleep", "30");
      assertEquals(ExecResult.TIMED_OUT, slow.exitCode());
    }
    assertGone("hnx2");
  }

  private static void assertGone(String prefix) throws Exception {
    String namespaces = output("ip", "netns", "list");
    String links = output("ip", "-o", "link");
    assertFalse(namespaces.contains(prefix + "-"), namespaces);
    assertFalse(links.contains(prefix + "-"), links);
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return p.exitValue();
  }

  private static String output(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return out;
  }

  private static boolean isRoot() throws Exception {
    return output("id", "-u").strip().equals("0");
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }
}
