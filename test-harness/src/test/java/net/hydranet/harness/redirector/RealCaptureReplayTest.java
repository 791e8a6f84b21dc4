package net.hydranet.harness.redirector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.Replay;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.trace.Trace;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@code hydranet replay} on a real tcpdump capture (see captures/README.md): IPv4 of every kind,
 * IPv6, ARP and 802.1Q-tagged frames. The router is put where host 198.18.20.2's MAC is, under
 * another address, so the capture's traffic to .2 is routed back to it and its HTTP port is
 * redirected. The documented rule for what is not routed: a frame for another MAC (IPv6 multicast
 * to a group the router is not in included) is not-for-us; IPv6 sent to the router is routed or
 * answered; nothing crashes and every frame is counted once.
 */
class RealCaptureReplayTest {
  private static final Path OUT = Path.of("target", "real-capture");

  @Test
  void shouldReplayARealMixedCaptureAndCountEveryFrameOnce() throws IOException {
    Path capture =
        RedirectorUnderTest.repositoryRoot()
            .resolve("test-harness/src/test/resources/captures/mixed.pcap");
    Trace trace = Trace.read(capture);
    int server = Ipv4Header.parseAddress("198.18.20.2");
    long serverMac = -1;
    long clientMac = -1;
    int ipv6 = 0;
    int ipv6ToServer = 0;
    int ipv6Accepted = 0;
    int echoToServer = 0;
    int taggedIpv4ToServer = 0;
    for (byte[] f : trace.frames()) {
      UnsafeBuffer b = new UnsafeBuffer(f);
      if (EthernetHeader.type(b, 0) == EthernetHeader.TYPE_IPV6) {
        ipv6++;
      }
      int ip = Frames.ipv4Offset(f);
      if (ip != Frames.NOT_IPV4 && Ipv4Header.destination(b, ip) == server && serverMac < 0) {
        serverMac = EthernetHeader.destination(b, 0);
        clientMac = EthernetHeader.source(b, 0);
      }
    }
    assertTrue(serverMac > 0, "the capture has traffic to 198.18.20.2");
    for (byte[] f : trace.frames()) {
      UnsafeBuffer b = new UnsafeBuffer(f);
      int ip = Frames.ipv4Offset(f);
      if (EthernetHeader.type(b, 0) == EthernetHeader.TYPE_IPV6) {
        long to = EthernetHeader.destination(b, 0);
        if (to == serverMac) {
          ipv6ToServer++;
          if (f.length > 54 && (f[54] & 0xFF) == Icmpv6Header.TYPE_ECHO_REQUEST) {
            echoToServer++;
          }
        }
        if (to == serverMac || (to >>> 32) == 0x3333) {
          ipv6Accepted++;
        }
      }
      if (EthernetHeader.type(b, 0) == EthernetHeader.TYPE_VLAN
          && ip != Frames.NOT_IPV4
          && EthernetHeader.destination(b, 0) == serverMac) {
        taggedIpv4ToServer++;
      }
    }
    assertTrue(ipv6 > ipv6ToServer && ipv6ToServer > 0, "multicast and unicast IPv6 present");
    assertTrue(taggedIpv4ToServer > 0, "tagged IPv4 present");

    Files.createDirectories(OUT);
    Path config = OUT.resolve("router.yaml");
    Files.writeString(
        config,
        "interfaces:\n"
            + "  - { name: veth0, mac: \""
            + EthernetHeader.formatMac(serverMac)
            + "\", address: 198.18.20.254/24, mtu: 1500 }\n"
            + "neighbours:\n"
            + "  - { address: 198.18.20.1, mac: \""
            + EthernetHeader.formatMac(clientMac)
            + "\" }\n"
            + "  - { address: 198.18.20.2, mac: \"02:00:00:00:14:02\" }\n"
            + "  - { address: 198.18.20.99, mac: \"02:00:00:00:14:63\" }\n"
            + "redirects:\n"
            + "  - service: 198.18.20.2:8000/tcp\n"
            + "    hostServers: [ { address: 198.18.20.99 } ]\n");
    Map<String, Long> counters = replay(config, capture, OUT.resolve("out.pcap"));

    assertEquals(trace.size(), counters.get("rx_frames"), "every frame received");
    assertEquals(counters.get("rx_frames"), counters.get("outcomes"), "every frame counted once");
    // The rule: a frame not sent to the interface's MAC (or broadcast, or for IPv6 a multicast
    // MAC) is not-for-us, whatever it carries; IPv6 is routed now (issue 21): the router, in the
    // server's place, has the server's link-local address, so it answers the neighbour
    // solicitation and the pings for it.
    assertEquals(0, counters.getOrDefault("drop_unsupported_ethertype", 0L), "IPv6 is handled");
    assertEquals(ipv6Accepted, counters.get("rx_ipv6_frames"), "IPv6 past the MAC filter");
    assertTrue(echoToServer > 0, "the capture pings the server's link-local address");
    assertEquals(
        echoToServer, counters.get("icmpv6_sent_echo_reply"), "each ping -6 answered: " + counters);
    assertTrue(counters.get("nd_advertisements_sent") > 0, "its solicitation answered");
    assertTrue(counters.getOrDefault("redirected", 0L) > 0, "HTTP to :8000 redirected");
    assertTrue(
        counters.getOrDefault("forwarded", 0L) + counters.getOrDefault("redirected", 0L)
            >= taggedIpv4ToServer,
        "tagged IPv4 frames are routed, not dropped: " + counters);
    assertTrue(counters.getOrDefault("drop_not_for_us", 0L) > 0, "replies to .1 are not ours");
  }

  private static Map<String, Long> replay(Path config, Path input, Path output) {
    Replay.Result r = Replay.run(config, input, output);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    return r.counters();
  }
}
