package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A host server's ingress drop of the tunnel packets its capture takes, in namespaces {@code
 * hntn-c} (a redirector's side) and {@code hntn-h} (the host server) joined by a veth pair;
 * 198.18.0.0/15 only.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TunnelDropTest {
  private static final String C = "hntn-c";
  private static final String H = "hntn-h";
  private static final String HOST_SERVER = "198.18.98.2";

  // Three IP-in-IP packets (protocol 4) to the host server, each an empty inner IPv4 header, sent
  // through a raw socket: no ipip module is needed to make them.
  private static final String SEND_IPIP =
      "import socket\n"
          + "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)\n"
          + "inner = bytes([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,"
          + " 198, 18, 98, 1, 198, 19, 0, 80])\n"
          + "for _ in range(3):\n"
          + "    s.sendto(inner, ('"
          + HOST_SERVER
          + "', 0))\n";

  @Test
  void scriptDropsProtocols4And41ToTheHostServerOnly() {
    String s = TunnelDrop.script("eth0", "198.18.1.20", "2001:2:0:1::20");

    assertTrue(s.startsWith("add table netdev hydranet_tunnel\ndelete table"), s);
    assertTrue(s.contains("chain in0 {\n    type filter hook ingress device \"eth0\""), s);
    assertTrue(
        s.contains("meta protocol ip ip daddr 198.18.1.20 ip protocol { 4, 41 } counter drop"), s);
    assertTrue(
        s.contains("meta protocol ip6 ip6 daddr 2001:2:0:1::20 ip6 nexthdr 41 counter drop"), s);
    assertFalse(TunnelDrop.script("eth0", "198.18.1.20", null).contains("ip6"));
  }

  @Test
  void anAddressOrInterfaceThatCouldInjectIntoTheScriptIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TunnelDrop.script("eth0", "198.18.1.20 counter accept", null));
    assertThrows(
        IllegalArgumentException.class,
        () -> TunnelDrop.script("eth0", "198.18.1.20", "2001:2::1 } flush"));
    assertThrows(
        IllegalArgumentException.class, () -> TunnelDrop.script("eth0\"", "198.18.1.20", null));
  }

  @Test
  void tunnelPacketsAreCapturedThenDroppedAndTheHostServerStillAnswers() throws Exception {
    assumeTrue(Net.isRoot(), "needs root to create namespaces");
    assumeTrue(Net.run("nft", "--version").exit() == 0, "nft (nftables) not installed");
    assumeTrue(Net.run("python3", "--version").exit() == 0, "python3 not installed");
    removeTopology();
    Net.sh("ip", "netns", "add", C);
    Net.sh("ip", "netns", "add", H);
    Net.sh("ip", "-n", H, "link", "add", "h0", "type", "veth", "peer", "name", "c0", "netns", C);
    Net.sh("ip", "-n", H, "addr", "add", HOST_SERVER + "/24", "dev", "h0");
    Net.sh("ip", "-n", C, "addr", "add", "198.18.98.1/24", "dev", "c0");
    Net.sh("ip", "-n", H, "link", "set", "h0", "up");
    Net.sh("ip", "-n", C, "link", "set", "c0", "up");

    try (IngressDrop drop = TunnelDrop.install(Net.inNs(H, "nft"), "h0", HOST_SERVER, null)) {
      // A capture on the host server's uplink, as its pcap: it must still see the tunnel.
      Process dump =
          new ProcessBuilder(
                  Net.inNs(H, "timeout", "10", "tcpdump", "-c", "3", "-ni", "h0", "ip proto 4"))
              .redirectErrorStream(true)
              .start();
      Thread.sleep(1000); // tcpdump attached
      Net.shNs(C, "python3", "-c", SEND_IPIP);
      String captured = new String(dump.getInputStream().readAllBytes());
      dump.waitFor();

      assertTrue(captured.contains("3 packets captured"), captured);
      assertEquals(3, drop.dropped(), "tunnel packets the kernel dropped at ingress");
      Net.shNs(C, "ping", "-c", "1", "-W", "2", HOST_SERVER); // the host server still answers
      assertEquals(3, drop.dropped(), "other traffic to the host server is not dropped");
    }
    assertFalse(
        Net.sh(Net.inNs(H, "nft", "list", "tables").toArray(new String[0]))
            .contains(TunnelDrop.TABLE),
        "closed: the table is gone");
  }

  @AfterEach
  void removeTopology() {
    Net.quiet("ip", "netns", "del", C);
    Net.quiet("ip", "netns", "del", H);
  }
}
