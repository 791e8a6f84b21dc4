package net.hydranet.harness.redirector;

import static net.hydranet.harness.fixture.SampleTopology.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.fixture.CapturingTxPort.Sent;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.packet.PacketBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Table-driven packet cases (Katran's fixture idea): a description, an input frame built with the
 * fluent builder, the frames expected out byte for byte, and the outcome counter expected to move.
 * Every input and expectation is built here from {@code config/replay-sample.yaml}'s topology.
 */
class RedirectorFixtureTest {
  /** One case: the frame arrives on {@code ingress}; {@code expected} leave in order. */
  record Fixture(
      String description, int ingress, byte[] input, List<Sent> expected, Counter outcome) {
    @Override
    public String toString() {
      return description;
    }
  }

  private static PacketBuilder fromClient() {
    return PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).ipv4(CLIENT, ORIGIN).id(0x1111);
  }

  /** The IP datagram of a frame (the Ethernet header stripped). */
  private static byte[] ip(byte[] frame) {
    int offset = Frames.ipv4Offset(frame);
    return Arrays.copyOfRange(frame, offset, frame.length);
  }

  private static byte[] tunnelled(byte[] innerFrame, int outerId, boolean df) {
    return PacketBuilder.ethernet(HS0_MAC, HOST_SERVER_MAC)
        .ipv4(HS0_IP, HOST_SERVER)
        .id(outerId)
        .dontFragment(df)
        .protocol(4)
        .ipPayload(ip(innerFrame))
        .build();
  }

  static Stream<Fixture> fixtures() {
    byte[] http = fromClient().ttl(64).tcp(40000, HTTP).payload(100).build();
    byte[] httpAfter =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(0x1111)
            .ttl(63)
            .tcp(40000, HTTP)
            .payload(100)
            .build();
    byte[] ssh = fromClient().ttl(64).tcp(40001, 22).payload(50).build();
    byte[] sshOut =
        PacketBuilder.ethernet(CORE0_MAC, ORIGIN_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(0x1111)
            .ttl(63)
            .tcp(40001, 22)
            .payload(50)
            .build();
    byte[] dns = fromClient().dontFragment(true).udp(5353, DNS).payload(40).build();
    byte[] dnsAfter =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(0x1111)
            .dontFragment(true)
            .ttl(63)
            .udp(5353, DNS)
            .payload(40)
            .build();
    byte[] far =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4("198.18.1.10", "198.19.7.7")
            .id(7)
            .udp(1000, 2000)
            .payload(10)
            .build();
    byte[] farOut =
        PacketBuilder.ethernet(CORE0_MAC, UPSTREAM_MAC)
            .ipv4("198.18.1.10", "198.19.7.7")
            .id(7)
            .ttl(63)
            .udp(1000, 2000)
            .payload(10)
            .build();
    byte[] vlanHttp =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .vlan(42)
            .ipv4(CLIENT, ORIGIN)
            .id(0x1111)
            .ttl(64)
            .tcp(40000, HTTP)
            .payload(100)
            .build();
    byte[] expired = fromClient().ttl(1).tcp(40002, 22).payload(8).build();
    byte[] expiredReply =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .ipv4(CLIENT0_IP, CLIENT)
            .tos(0xC0)
            .id(1)
            .ttl(64)
            .icmpError(IcmpHeader.TYPE_TIME_EXCEEDED, 0, 0, ip(expired))
            .build();
    byte[] nowhere =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4("198.18.1.10", "198.18.200.1")
            .udp(1, 2)
            .build();
    byte[] nowhereReply =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .ipv4(CLIENT0_IP, CLIENT)
            .tos(0xC0)
            .id(1)
            .ttl(64)
            .icmpError(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 0, 0, ip(nowhere))
            .build();
    byte[] bigDf = fromClient().dontFragment(true).tcp(40003, HTTP).payload(1460).build();
    byte[] quote = Arrays.copyOf(ip(bigDf), 548);
    byte[] fragNeeded =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .ipv4(CLIENT0_IP, CLIENT)
            .tos(0xC0)
            .id(1)
            .ttl(64)
            .icmpError(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4, 1480, quote)
            .build();
    byte[] echo =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, CLIENT0_IP)
            .id(9)
            .icmpEcho(77, 1)
            .payload(32)
            .build();
    byte[] echoReply =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .ipv4(CLIENT0_IP, CLIENT)
            .id(9)
            .ttl(64)
            .icmpEchoReply(77, 1)
            .payload(32)
            .build();
    byte[] arpRequest =
        PacketBuilder.ethernet(CLIENT_MAC, 0xFFFF_FFFF_FFFFL)
            .arpRequest(CLIENT_MAC, CLIENT, CLIENT0_IP)
            .build();
    byte[] arpReply =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .arpReply(CLIENT0_MAC, CLIENT0_IP, CLIENT_MAC, CLIENT)
            .build();

    byte[] synAck =
        PacketBuilder.ethernet(ORIGIN_MAC, CORE0_MAC)
            .ipv4(ORIGIN, CLIENT)
            .id(0x2222)
            .tcp(HTTP, 40000)
            .flags(TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)
            .mss(1460)
            .build();
    byte[] synAckOut =
        PacketBuilder.ethernet(CLIENT0_MAC, CLIENT_MAC)
            .ipv4(ORIGIN, CLIENT)
            .id(0x2222)
            .ttl(63)
            .tcp(HTTP, 40000)
            .flags(TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)
            .mss(1440)
            .build();

    return Stream.of(
        new Fixture(
            "forward: the origin's SYN-ACK for a replicated service has its MSS clamped",
            CORE0,
            synAck,
            List.of(new Sent(CLIENT0, synAckOut)),
            Counter.FORWARDED),
        new Fixture(
            "forward: a port the table does not redirect goes to the origin",
            CLIENT0,
            ssh,
            List.of(new Sent(CORE0, sshOut)),
            Counter.FORWARDED),
        new Fixture(
            "forward: a route via a next hop",
            CLIENT0,
            far,
            List.of(new Sent(CORE0, farOut)),
            Counter.FORWARDED),
        new Fixture(
            "redirect: TCP 80 is tunnelled to the host server, inner TTL − 1",
            CLIENT0,
            http,
            List.of(new Sent(HS0, tunnelled(httpAfter, 1, false))),
            Counter.REDIRECTED),
        new Fixture(
            "redirect: UDP 53, DF copied to the outer header",
            CLIENT0,
            dns,
            List.of(new Sent(HS0, tunnelled(dnsAfter, 1, true))),
            Counter.REDIRECTED),
        new Fixture(
            "redirect: an 802.1Q-tagged frame is parsed and redirected untagged",
            CLIENT0,
            vlanHttp,
            List.of(new Sent(HS0, tunnelled(httpAfter, 1, false))),
            Counter.REDIRECTED),
        new Fixture(
            "TTL 1: ICMP time exceeded quoting the datagram",
            CLIENT0,
            expired,
            List.of(new Sent(CLIENT0, expiredReply)),
            Counter.DROP_TTL_EXCEEDED),
        new Fixture(
            "no route: ICMP net unreachable",
            CLIENT0,
            nowhere,
            List.of(new Sent(CLIENT0, nowhereReply)),
            Counter.DROP_NO_ROUTE),
        new Fixture(
            "DF set and too big for the tunnel: frag-needed with MTU − 20",
            CLIENT0,
            bigDf,
            List.of(new Sent(CLIENT0, fragNeeded)),
            Counter.DROP_FRAG_NEEDED),
        new Fixture(
            "echo to the router: answered",
            CLIENT0,
            echo,
            List.of(new Sent(CLIENT0, echoReply)),
            Counter.DELIVERED_LOCAL),
        new Fixture(
            "ARP request for the router: answered",
            CLIENT0,
            arpRequest,
            List.of(new Sent(CLIENT0, arpReply)),
            Counter.DELIVERED_LOCAL),
        malformed(
            "truncated Ethernet header", Arrays.copyOf(http, 10), Counter.DROP_TRUNCATED_ETHERNET),
        malformed("truncated IP header", Arrays.copyOf(http, 14 + 12), Counter.DROP_TRUNCATED_IP),
        malformed("IHL < 5", fromClient().ihl(4).tcp(1, HTTP).build(), Counter.DROP_BAD_IHL),
        malformed(
            "total length beyond the frame",
            fromClient().tcp(1, HTTP).payload(10).totalLength(400).build(),
            Counter.DROP_BAD_TOTAL_LENGTH),
        malformed(
            "bad IP checksum",
            fromClient().tcp(1, HTTP).badIpChecksum().build(),
            Counter.DROP_BAD_IP_CHECKSUM),
        malformed(
            "zero-length TCP header (data offset 0)",
            zeroDataOffset(fromClient().tcp(1, HTTP).payload(20).build()),
            Counter.DROP_BAD_TRANSPORT),
        malformed(
            "overlapping TCP fragment at offset 8 (RFC 1858)",
            fromClient()
                .moreFragments(true)
                .fragmentOffset(8)
                .protocol(6)
                .ipPayload(new byte[16])
                .build(),
            Counter.DROP_BAD_FRAGMENT),
        malformed(
            "fragment reaching past 65,535 bytes",
            fromClient().fragmentOffset(65_528).protocol(17).ipPayload(new byte[64]).build(),
            Counter.DROP_BAD_FRAGMENT),
        malformed(
            "martian source 127.0.0.1",
            PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
                .ipv4("127.0.0.1", "198.18.2.10")
                .udp(1, 2)
                .build(),
            Counter.DROP_MARTIAN_SOURCE),
        malformed(
            "a packet claiming the router's own address as its source",
            PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
                .ipv4(CLIENT0_IP, ORIGIN)
                .udp(1, 2)
                .build(),
            Counter.DROP_MARTIAN_SOURCE),
        malformed(
            "an ARP message claiming the router's own address",
            PacketBuilder.ethernet(0x0200_0000_0999L, 0xFFFF_FFFF_FFFFL)
                .arpRequest(0x0200_0000_0999L, CLIENT0_IP, CLIENT)
                .build(),
            Counter.DROP_BAD_ARP),
        malformed(
            "a frame for another MAC on the segment",
            PacketBuilder.ethernet(CLIENT_MAC, 0x0200_0000_0999L)
                .ipv4(CLIENT, ORIGIN)
                .udp(1, 2)
                .build(),
            Counter.DROP_NOT_FOR_US),
        malformed(
            "an EtherType nothing here routes (LLDP)",
            PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).etherType(0x88CC).payload(60).build(),
            Counter.DROP_UNSUPPORTED_ETHERTYPE),
        malformed(
            "an IPv6 frame whose header is not IPv6's (version 0)",
            PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).etherType(0x86DD).payload(60).build(),
            Counter.DROP_BAD_IP_VERSION));
  }

  private static Fixture malformed(String description, byte[] input, Counter reason) {
    return new Fixture("malformed: " + description, CLIENT0, input, List.of(), reason);
  }

  private static byte[] zeroDataOffset(byte[] frame) {
    byte[] copy = frame.clone();
    int tcp = Frames.ipv4Offset(copy) + 20;
    copy[tcp + TcpHeader.DATA_OFFSET_OFFSET] = 0;
    return copy;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void shouldSendExactlyTheExpectedFramesAndCountTheOutcome(Fixture fixture) {
    RedirectorUnderTest router = new RedirectorUnderTest();
    List<Sent> out = router.receive(fixture.ingress(), fixture.input());
    assertEquals(fixture.expected().size(), out.size(), "frames sent: " + describe(out));
    for (int i = 0; i < out.size(); i++) {
      assertEquals(fixture.expected().get(i).iface(), out.get(i).iface(), "egress interface");
      assertArrayEquals(
          fixture.expected().get(i).frame(),
          out.get(i).frame(),
          () ->
              "frame differs:\n expected "
                  + hex(fixture.expected().get(0).frame())
                  + "\n actual   "
                  + hex(out.get(0).frame()));
      assertTrue(Frames.checksumsValid(out.get(i).frame()), "every checksum valid");
    }
    assertEquals(1, router.counter(fixture.outcome()), "outcome " + fixture.outcome());
    assertEquals(1, router.counter(Counter.RX_FRAMES));
    assertEquals(1, router.plane().counters().outcomes(), "exactly one outcome per frame");

    // The next good frame still goes out, whatever came before it.
    byte[] good = fromClient().ttl(64).tcp(40009, 22).payload(10).build();
    List<Sent> after = router.receive(CLIENT0, good);
    assertEquals(1, after.size());
    assertEquals(CORE0, after.get(0).iface());
  }

  private static String describe(List<Sent> out) {
    StringBuilder sb = new StringBuilder();
    for (Sent s : out) {
      sb.append("\n  if").append(s.iface()).append(' ').append(hex(s.frame()));
    }
    return sb.toString();
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
