package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kernel's ingress drop of transit frames, in namespaces {@code hntd-c} (a client) and {@code
 * hntd-r} (the router's box, {@code ip_forward=0}) joined by a veth pair; 198.18.0.0/15 only.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransitDropTest {
  private static final String C = "hntd-c";
  private static final String R = "hntd-r";

  @Test
  void scriptHasOneIngressChainPerInterfaceAndReplacesAStaleTable() {
    String s = TransitDrop.script(List.of("eth0", "eth1"));

    assertTrue(s.startsWith("add table netdev hydranet_transit\ndelete table"), s);
    assertTrue(s.contains("chain in0 {\n    type filter hook ingress device \"eth0\""), s);
    assertTrue(s.contains("chain in1 {\n    type filter hook ingress device \"eth1\""), s);
    assertEquals(2, s.split("fib daddr type != \\{ local, broadcast, multicast \\}").length - 1);
    assertEquals(
        2, s.split("meta protocol ip6 fib daddr type != \\{ local, multicast \\}").length - 1);
  }

  @Test
  void anInterfaceNameThatCouldInjectIntoTheScriptIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> TransitDrop.script(List.of("eth0\"; flush")));
  }

  @Test
  void transitFramesAreCapturedThenDroppedAndTheBoxStillAnswers() throws Exception {
    assumeTrue(Net.isRoot(), "needs root to create namespaces");
    assumeTrue(Net.run("nft", "--version").exit() == 0, "nft (nftables) not installed");
    removeTopology();
    Net.sh("ip", "netns", "add", C);
    Net.sh("ip", "netns", "add", R);
    Net.sh("ip", "-n", R, "link", "add", "r0", "type", "veth", "peer", "name", "c0", "netns", C);
    Net.sh("ip", "-n", R, "addr", "add", "198.18.99.1/24", "dev", "r0");
    Net.sh("ip", "-n", C, "addr", "add", "198.18.99.2/24", "dev", "c0");
    Net.sh("ip", "-n", R, "link", "set", "r0", "up");
    Net.sh("ip", "-n", C, "link", "set", "c0", "up");
    Net.sh("ip", "-n", C, "route", "add", "198.18.100.0/24", "via", "198.18.99.1");

    try (IngressDrop drop = TransitDrop.install(Net.inNs(R, "nft"), List.of("r0"))) {
      // A capture on the router's link, as the redirector's pcap: it must still see transit.
      Process dump =
          new ProcessBuilder(
                  Net.inNs(
                      R,
                      "timeout",
                      "10",
                      "tcpdump",
                      "-c",
                      "3",
                      "-ni",
                      "r0",
                      "icmp and dst host",
                      "198.18.100.5"))
              .redirectErrorStream(true)
              .start();
      Thread.sleep(1000); // tcpdump attached
      Net.run(
          Net.inNs(C, "ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.100.5")
              .toArray(new String[0]));
      String captured = new String(dump.getInputStream().readAllBytes());
      dump.waitFor();

      assertTrue(captured.contains("3 packets captured"), captured);
      assertEquals(3, drop.dropped(), "transit frames the kernel dropped at ingress");
      Net.shNs(C, "ping", "-c", "1", "-W", "2", "198.18.99.1"); // the box's own address answers
      assertEquals(3, drop.dropped(), "a frame to the box itself is not dropped");
    }
    assertFalse(
        Net.sh(Net.inNs(R, "nft", "list", "tables").toArray(new String[0]))
            .contains(TransitDrop.TABLE),
        "closed: the table is gone");
  }

  @AfterEach
  void removeTopology() {
    Net.quiet("ip", "netns", "del", C);
    Net.quiet("ip", "netns", "del", R);
  }
}
