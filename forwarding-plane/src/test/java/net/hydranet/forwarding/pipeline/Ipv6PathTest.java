package net.hydranet.forwarding.pipeline;

import static net.hydranet.forwarding.element.TestFrames.CLIENT_IF;
import static net.hydranet.forwarding.element.TestFrames.CLIENT_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames.CLIENT_MAC;
import static net.hydranet.forwarding.element.TestFrames.CORE_IF;
import static net.hydranet.forwarding.element.TestFrames.CORE_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames.GATEWAY_MAC;
import static net.hydranet.forwarding.element.TestFrames.HEADROOM;
import static net.hydranet.forwarding.element.TestFrames.HOST_SERVER;
import static net.hydranet.forwarding.element.TestFrames.HOST_SERVER_MAC;
import static net.hydranet.forwarding.element.TestFrames.HS_IF;
import static net.hydranet.forwarding.element.TestFrames.HS_IF_IP;
import static net.hydranet.forwarding.element.TestFrames.HS_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_LOW;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_NET;
import static net.hydranet.forwarding.element.TestFrames6.CORE_NET;
import static net.hydranet.forwarding.element.TestFrames6.GATEWAY_LOW;
import static net.hydranet.forwarding.element.TestFrames6.HOST_SERVER_LOW;
import static net.hydranet.forwarding.element.TestFrames6.HS_NET;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_LOW;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_NET;
import static net.hydranet.forwarding.element.TestFrames6.ipOffset;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.TestFrames;
import net.hydranet.forwarding.element.TestFrames6;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.NeighbourDiscovery;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The IPv6 graph ({@link Ipv6Path}) inside the whole {@link ForwardingPath}, on real bytes: a table
 * of fixtures (Katran's idea: description, input written through the flyweights, the verdict
 * counted, the frame out compared byte for byte with the input transformed as RFC 8200, 4443, 4213
 * and 2473 say), then the cases that need more than one frame (neighbour discovery, flows).
 */
class Ipv6PathTest {
  private static final int HTTP = 80;
  private static final int HTTPS = 443;

  /** hs0's MTU in the fixtures, and the IPv6-in-IPv4 tunnel's over it. */
  private static final int HS_MTU = 1400;

  private static final int MTU_6IN4 = HS_MTU - 20;
  private static final int HOST_SERVER_ID = 1;

  private final List<Sent> sent = new ArrayList<>();
  private final Counters counters = new Counters();
  private final UnsafeBuffer slot = TestFrames.slot();
  private ForwardingPath path;
  private RedirectorTable redirects;
  private boolean capture = true;
  private long transmitted;

  record Sent(int port, byte[] frame) {
    UnsafeBuffer buffer() {
      return new UnsafeBuffer(frame);
    }
  }

  private ForwardingPath path(int hostServerMtu) {
    ForwardingContext context = TestFrames6.context(hostServerMtu).conclude();
    redirects = new RedirectorTable(64, 4);
    // [origin]:80/tcp → the IPv4 host server (6in4); [origin]:443/tcp → the IPv6 one (6in6).
    redirects.put6(
        ORIGIN_NET, ORIGIN_LOW, 6, HTTP, new int[] {HOST_SERVER}, new int[] {1}, 1, null);
    redirects.put6(
        ORIGIN_NET, ORIGIN_LOW, 6, HTTPS, new int[] {HOST_SERVER_ID}, new int[] {1}, 1, null);
    RouteTable routes = new RouteTable(64);
    for (var i : context.interfaces()) {
      routes.add(i.network(), i.prefixLength(), 0, i.index());
    }
    NeighbourTable neighbours =
        new NeighbourTable(64, 16, 9_100, 4, 3, 1_000_000_000L, 60_000_000_000L);
    neighbours.putStatic(HOST_SERVER, HOST_SERVER_MAC, HS_IF);
    TxPort[] ports = new TxPort[3];
    for (int i = 0; i < ports.length; i++) {
      int index = i;
      ports[i] =
          new TxPort() {
            @Override
            public boolean send(DirectBuffer buffer, int offset, int length, long timestamp) {
              transmitted++;
              if (!capture) {
                return true;
              }
              byte[] copy = new byte[length];
              buffer.getBytes(offset, copy);
              sent.add(new Sent(index, copy));
              return true;
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          };
    }
    path = new ForwardingPath(context, counters, redirects, routes, neighbours, ports);
    Ipv6Path v6 = path.ipv6();
    v6.routes().add(ORIGIN_NET, 0, 48, CORE_NET, GATEWAY_LOW, CORE_IF);
    v6.neighbours().putStatic(CLIENT_NET, CLIENT_LOW, CLIENT_MAC, CLIENT_IF);
    v6.neighbours().putStatic(CORE_NET, GATEWAY_LOW, GATEWAY_MAC, CORE_IF);
    v6.neighbours().putStatic(HS_NET, HOST_SERVER_LOW, HOST_SERVER_MAC, HS_IF);
    v6.hostServers().put(HOST_SERVER_ID, HS_NET, HOST_SERVER_LOW);
    path.tick(1_000_000_000L);
    return path;
  }

  private void process(int length) {
    path.process(slot, HEADROOM, length, CLIENT_IF);
    assertEquals(counters.get(Counter.RX_FRAMES), counters.outcomes(), "one outcome a frame");
  }

  private byte[] input(int length) {
    byte[] in = new byte[length];
    slot.getBytes(HEADROOM, in);
    return in;
  }

  // ---- the fixtures ----

  /** One fixture: what goes in, which outcome it counts, and the frame expected out, if any. */
  record Fixture(
      String description,
      ToIntFunction<UnsafeBuffer> input,
      Counter outcome,
      int port,
      UnaryOperator<byte[]> expected) {
    @Override
    public String toString() {
      return description;
    }
  }

  static Stream<Arguments> fixtures() {
    return Stream.of(
            new Fixture(
                "forward: hop limit − 1, Ethernet rewritten to the gateway, nothing else",
                s -> TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 10, 64),
                Counter.FORWARDED,
                CORE_IF,
                in -> forwarded(in, GATEWAY_MAC, CORE_IF_MAC)),
            new Fixture(
                "forward across hop-by-hop, destination options and routing headers",
                Ipv6PathTest::withExtensionHeaders,
                Counter.FORWARDED,
                CORE_IF,
                in -> forwarded(in, GATEWAY_MAC, CORE_IF_MAC)),
            new Fixture(
                "hop limit 1: time exceeded to the client, quoting the packet as received",
                s -> TestFrames6.echo(s, ORIGIN_NET, ORIGIN_LOW, 1),
                Counter.DROP_TTL_EXCEEDED,
                CLIENT_IF,
                in -> icmpError(in, Icmpv6Header.TYPE_TIME_EXCEEDED, 0, 0)),
            new Fixture(
                "no route: destination unreachable (no route) to the client",
                s -> TestFrames6.echo(s, 0x2001_0002_00FF_0000L, 1, 64),
                Counter.DROP_NO_ROUTE,
                CLIENT_IF,
                in -> icmpError(in, Icmpv6Header.TYPE_DESTINATION_UNREACHABLE, 0, 0)),
            new Fixture(
                "1500-byte packet to a 1400 link: Packet Too Big 1400 (quoting 1232), never fragmented",
                s -> TestFrames6.tcp(s, HS_NET, 9, 40_000, 8080, 0x10, 0, 1500 - 60, 64),
                Counter.DROP_PACKET_TOO_BIG,
                CLIENT_IF,
                in -> icmpError(in, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, HS_MTU)),
            new Fixture(
                "echo request to the router's address: answered from it",
                s -> TestFrames6.echo(s, CLIENT_NET, 1, 64),
                Counter.DELIVERED_LOCAL,
                CLIENT_IF,
                Ipv6PathTest::echoReply),
            new Fixture(
                "redirect to an IPv4 host server: IPv6-in-IPv4, protocol 41, DF, inner hop − 1",
                s -> TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x10, 0, 10, 64),
                Counter.REDIRECTED,
                HS_IF,
                in -> sixInFour(in, 1)),
            new Fixture(
                "redirect to an IPv6 host server: IPv6-in-IPv6, next header 41",
                s -> TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTPS, 0x10, 0, 10, 64),
                Counter.REDIRECTED,
                HS_IF,
                Ipv6PathTest::sixInSix),
            new Fixture(
                "a redirected SYN's MSS is clamped to the tunnel: 1380 − 40 − 20",
                s -> TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x02, 1460, 0, 64),
                Counter.REDIRECTED,
                HS_IF,
                in -> sixInFour(clampMss(in, MTU_6IN4 - 60), 1)),
            new Fixture(
                "a redirected packet over the tunnel MTU: Packet Too Big 1380 to the client",
                s ->
                    TestFrames6.tcp(
                        s, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x10, 0, 1500 - 60, 64),
                Counter.DROP_PACKET_TOO_BIG,
                CLIENT_IF,
                in -> icmpError(in, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, MTU_6IN4)),
            new Fixture(
                "malformed: truncated below the fixed header",
                s -> TestFrames6.echo(s, ORIGIN_NET, ORIGIN_LOW, 64) - 20,
                Counter.DROP_IPV6_TRUNCATED,
                -1,
                null),
            new Fixture(
                "malformed: payload length beyond the frame",
                s -> {
                  int n = TestFrames6.echo(s, ORIGIN_NET, ORIGIN_LOW, 64);
                  Ipv6Header.payloadLength(s, ipOffset(), 400);
                  return n;
                },
                Counter.DROP_IPV6_BAD_PAYLOAD_LENGTH,
                -1,
                null),
            new Fixture(
                "malformed: hop-by-hop after another header",
                Ipv6PathTest::misordered,
                Counter.DROP_IPV6_BAD_EXTENSION_HEADERS,
                -1,
                null),
            new Fixture(
                "malformed: an endless chain of destination options",
                Ipv6PathTest::endless,
                Counter.DROP_IPV6_BAD_EXTENSION_HEADERS,
                -1,
                null),
            new Fixture(
                "martian: a link-local source is never forwarded",
                s -> {
                  int n = TestFrames6.echo(s, ORIGIN_NET, ORIGIN_LOW, 64);
                  Ipv6Header.address(
                      s, ipOffset() + Ipv6Header.SOURCE_OFFSET, RouterAddress6.LINK_LOCAL_HIGH, 7);
                  return n;
                },
                Counter.DROP_MARTIAN_SOURCE,
                -1,
                null),
            new Fixture(
                "martian: a multicast source",
                s -> {
                  int n = TestFrames6.echo(s, ORIGIN_NET, ORIGIN_LOW, 64);
                  Ipv6Header.address(
                      s, ipOffset() + Ipv6Header.SOURCE_OFFSET, 0xFF0E_0000_0000_0000L, 7);
                  return n;
                },
                Counter.DROP_MARTIAN_SOURCE,
                -1,
                null))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void shouldTreatEachFixtureAsTheRfcsSay(Fixture fixture) {
    path(HS_MTU);
    int length = fixture.input().applyAsInt(slot);
    byte[] in = input(length);
    process(length);

    assertEquals(1, counters.get(fixture.outcome()), fixture + ": " + fixture.outcome());
    if (fixture.expected() == null) {
      assertEquals(0, sent.size(), "nothing sent");
    } else {
      assertEquals(1, sent.size(), "one frame out");
      assertEquals(fixture.port(), sent.get(0).port(), "egress interface");
      assertArrayEquals(fixture.expected().apply(in), sent.get(0).frame(), "bytes out");
    }
    // The next good frame still goes out.
    sent.clear();
    process(TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_001, 8080, 0x10, 0, 10, 64));
    assertEquals(1, sent.size(), "the next good frame is forwarded");
  }

  // ---- expected outputs, built from the input ----

  private static byte[] forwarded(byte[] in, long toMac, long fromMac) {
    byte[] out = in.clone();
    UnsafeBuffer b = new UnsafeBuffer(out);
    EthernetHeader.write(b, 0, toMac, fromMac, EthernetHeader.TYPE_IPV6);
    b.putByte(14 + Ipv6Header.HOP_LIMIT_OFFSET, (byte) (in[14 + 7] - 1));
    return out;
  }

  /**
   * RFC 4443: from the client interface's address, hop limit 64, the packet quoted as far as the
   * error stays within 1280 bytes.
   */
  private static byte[] icmpError(byte[] in, int type, int code, int rest) {
    int quoted = Math.min(in.length - 14, 1280 - 48);
    byte[] out = new byte[14 + 40 + 8 + quoted];
    UnsafeBuffer b = new UnsafeBuffer(out);
    EthernetHeader.write(b, 0, CLIENT_MAC, CLIENT_IF_MAC, EthernetHeader.TYPE_IPV6);
    Ipv6Header.write(b, 14, 0, 0, 8 + quoted, 58, 64, CLIENT_NET, 1, CLIENT_NET, CLIENT_LOW);
    Icmpv6Header.write(b, 54, type, code, rest);
    b.putBytes(62, in, 14, quoted);
    Icmpv6Header.updateChecksum(b, 14, 54, 8 + quoted);
    return out;
  }

  private static byte[] echoReply(byte[] in) {
    byte[] out = in.clone();
    UnsafeBuffer b = new UnsafeBuffer(out);
    EthernetHeader.write(b, 0, CLIENT_MAC, CLIENT_IF_MAC, EthernetHeader.TYPE_IPV6);
    Ipv6Header.address(b, 14 + Ipv6Header.SOURCE_OFFSET, CLIENT_NET, 1);
    Ipv6Header.address(b, 14 + Ipv6Header.DESTINATION_OFFSET, CLIENT_NET, CLIENT_LOW);
    Ipv6Header.hopLimit(b, 14, 64);
    b.putByte(54, (byte) Icmpv6Header.TYPE_ECHO_REPLY);
    Icmpv6Header.updateChecksum(b, 14, 54, in.length - 54);
    return out;
  }

  /** RFC 4213 §3.5: an outer IPv4 header from hs0's address, protocol 41, DF, TTL 64. */
  private static byte[] sixInFour(byte[] in, int id) {
    byte[] inner = forwarded(in, 0, 0);
    int innerLength = in.length - 14;
    byte[] out = new byte[14 + 20 + innerLength];
    UnsafeBuffer b = new UnsafeBuffer(out);
    EthernetHeader.write(b, 0, HOST_SERVER_MAC, HS_IF_MAC, EthernetHeader.TYPE_IPV4);
    Ipv4Header.write(
        b, 14, 0, 20 + innerLength, id, Ipv4Header.FLAG_DF, 64, 41, HS_IF_IP, HOST_SERVER);
    b.putBytes(34, inner, 14, innerLength);
    return out;
  }

  /** RFC 2473 §3: an outer IPv6 header from hs0's IPv6 address, next header 41, hop limit 64. */
  private static byte[] sixInSix(byte[] in) {
    byte[] inner = forwarded(in, 0, 0);
    int innerLength = in.length - 14;
    byte[] out = new byte[14 + 40 + innerLength];
    UnsafeBuffer b = new UnsafeBuffer(out);
    EthernetHeader.write(b, 0, HOST_SERVER_MAC, HS_IF_MAC, EthernetHeader.TYPE_IPV6);
    Ipv6Header.write(b, 14, 0, 0, innerLength, 41, 64, HS_NET, 1, HS_NET, HOST_SERVER_LOW);
    b.putBytes(54, inner, 14, innerLength);
    return out;
  }

  private static byte[] clampMss(byte[] in, int mss) {
    byte[] out = in.clone();
    UnsafeBuffer b = new UnsafeBuffer(out);
    b.putShort(54 + 22, (short) mss, ByteOrder.BIG_ENDIAN);
    Ipv6Header.updateTcpChecksum(b, 14, 54, out.length - 54);
    return out;
  }

  // ---- inputs with extension headers ----

  /** TCP behind hop-by-hop (8 bytes), destination options (8) and a routing header (8, 0 left). */
  private static int withExtensionHeaders(UnsafeBuffer s) {
    int n = TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 10, 64);
    return insertHeaders(s, n, new int[] {0, 60, 43}, 6);
  }

  private static int misordered(UnsafeBuffer s) {
    int n = TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 10, 64);
    return insertHeaders(s, n, new int[] {60, 0}, 6);
  }

  /** Destination options naming destination options again, thrice: RFC 8200 allows two. */
  private static int endless(UnsafeBuffer s) {
    int n = TestFrames6.tcp(s, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 10, 64);
    return insertHeaders(s, n, new int[] {60, 60, 60}, 6);
  }

  /**
   * Puts 8-byte extension headers of the kinds given between the fixed header and the upper layer
   * (whose next-header value is {@code upper}); the TCP checksum does not cover them.
   */
  private static int insertHeaders(UnsafeBuffer s, int length, int[] kinds, int upper) {
    int ip = ipOffset();
    int payload = length - 14 - 40;
    byte[] rest = new byte[payload];
    s.getBytes(ip + 40, rest);
    int at = ip + 40;
    Ipv6Header.nextHeader(s, ip, kinds[0]);
    for (int i = 0; i < kinds.length; i++) {
      s.setMemory(at, 8, (byte) 0);
      s.putByte(at, (byte) (i + 1 < kinds.length ? kinds[i + 1] : upper));
      if (kinds[i] == 43) {
        s.putByte(at + 2, (byte) 4); // segment routing type, 0 segments left: ignored
      } else {
        s.putByte(at + 2, (byte) 1); // PadN of 4 bytes
        s.putByte(at + 3, (byte) 4);
      }
      at += 8;
    }
    s.putBytes(at, rest);
    Ipv6Header.payloadLength(s, ip, payload + 8 * kinds.length);
    return length + 8 * kinds.length;
  }

  // ---- cases of more than one frame ----

  @Test
  void shouldPinARedirectedFlowAndFollowItWithItsIcmpErrors() {
    path(1500);
    process(TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x02, 0, 0, 64));
    assertEquals(1, counters.get(Counter.REDIRECTED));
    assertEquals(1, path.ipv6().flows().size(), "the SYN is pinned");
    assertEquals(0, path.flows().size(), "the IPv4 table is untouched");

    // A Packet Too Big from the client's side about the origin's (the replica's) answer.
    int quotedLength = 40 + 20;
    int length =
        TestFrames6.ipv6(
            slot,
            CLIENT_IF_MAC,
            CLIENT_NET,
            CLIENT_LOW,
            ORIGIN_NET,
            ORIGIN_LOW,
            58,
            8 + quotedLength,
            64);
    int icmp = ipOffset() + 40;
    Icmpv6Header.write(slot, icmp, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, 1280);
    int quoted = icmp + 8;
    Ipv6Header.write(slot, quoted, 0, 0, 20, 6, 60, ORIGIN_NET, ORIGIN_LOW, CLIENT_NET, CLIENT_LOW);
    slot.putShort(quoted + 40, (short) HTTP, ByteOrder.BIG_ENDIAN);
    slot.putShort(quoted + 42, (short) 40_000, ByteOrder.BIG_ENDIAN);
    Icmpv6Header.updateChecksum(slot, ipOffset(), icmp, 8 + quotedLength);
    sent.clear();
    process(length);

    assertEquals(2, counters.get(Counter.REDIRECTED));
    assertEquals(1, counters.get(Counter.ICMP_ERRORS_STEERED));
    assertEquals(HS_IF, sent.get(0).port());
    assertEquals(41, Ipv4Header.protocol(sent.get(0).buffer(), 14));
  }

  @Test
  void shouldSendNeighbourSolicitationAndReleaseTheQueuedPacketOnTheAdvertisement() {
    path(1500);
    long unknownLow = 0x99;
    process(TestFrames6.tcp(slot, HS_NET, unknownLow, 40_000, 8080, 0x10, 0, 10, 64));
    assertEquals(1, counters.get(Counter.FORWARDED));
    assertEquals(1, counters.get(Counter.ND_QUEUED));
    assertEquals(1, sent.size(), "a solicitation, not the packet");
    UnsafeBuffer ns = sent.get(0).buffer();
    assertEquals(HS_IF, sent.get(0).port());
    assertEquals(0x3333_FF00_0099L, EthernetHeader.destination(ns, 0));
    assertEquals(
        Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION, Icmpv6Header.type(ns, 14 + Ipv6Header.LENGTH));
    assertEquals(
        NeighbourDiscovery.VALID,
        NeighbourDiscovery.validate(ns, 14, 54, ns.capacity() - 54),
        "a valid solicitation");
    assertEquals(unknownLow, NeighbourDiscovery.targetLow(ns, 54));

    // The neighbour answers on hs0.
    long mac = 0x02_00_00_00_00_99L;
    EthernetHeader.write(slot, HEADROOM, HS_IF_MAC, mac, EthernetHeader.TYPE_IPV6);
    int na =
        NeighbourDiscovery.writeNeighbourAdvertisement(
            slot,
            ipOffset(),
            HS_NET,
            unknownLow,
            HS_NET,
            1,
            HS_NET,
            unknownLow,
            NeighbourDiscovery.NA_FLAG_SOLICITED | NeighbourDiscovery.NA_FLAG_OVERRIDE,
            mac);
    sent.clear();
    path.process(slot, HEADROOM, 14 + na, HS_IF);
    assertEquals(counters.get(Counter.RX_FRAMES), counters.outcomes());
    assertEquals(1, sent.size(), "the queued packet goes out");
    assertEquals(mac, EthernetHeader.destination(sent.get(0).buffer(), 0));
    assertEquals(63, Ipv6Header.hopLimit(sent.get(0).buffer(), 14));
  }

  @Test
  void shouldAnswerASolicitationForItsAddressAndLearnTheSolicitor() {
    path(1500);
    long mac = 0x02_00_00_00_00_77L;
    long low = 0x77;
    EthernetHeader.write(
        slot, HEADROOM, Ipv6Header.multicastMac(Ipv6Header.solicitedNodeLow(1)), mac, 0x86DD);
    int ns =
        NeighbourDiscovery.writeNeighbourSolicitation(
            slot,
            ipOffset(),
            CLIENT_NET,
            low,
            Ipv6Header.solicitedNodeHigh(),
            Ipv6Header.solicitedNodeLow(1),
            CLIENT_NET,
            1,
            mac);
    process(14 + ns);

    assertEquals(1, counters.get(Counter.DELIVERED_LOCAL));
    assertEquals(1, counters.get(Counter.ND_ADVERTISEMENTS_SENT));
    assertEquals(mac, path.ipv6().neighbours().macOf(CLIENT_NET, low), "learned");
    UnsafeBuffer na = sent.get(0).buffer();
    assertEquals(mac, EthernetHeader.destination(na, 0));
    assertEquals(CLIENT_IF_MAC, EthernetHeader.source(na, 0));
    assertEquals(
        NeighbourDiscovery.VALID, NeighbourDiscovery.validate(na, 14, 54, na.capacity() - 54));
    assertEquals(Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT, Icmpv6Header.type(na, 54));
    assertEquals(
        NeighbourDiscovery.NA_FLAG_ROUTER
            | NeighbourDiscovery.NA_FLAG_SOLICITED
            | NeighbourDiscovery.NA_FLAG_OVERRIDE,
        NeighbourDiscovery.naFlags(na, 54));
    assertEquals(
        CLIENT_IF_MAC,
        NeighbourDiscovery.linkLayerAddress(
            na, 54, na.capacity() - 54, NeighbourDiscovery.OPTION_TARGET_LINK_LAYER));
    assertEquals(low, Ipv6Header.destinationLow(na, 14));

    // A solicitation with a bad hop limit changes nothing and is counted.
    sent.clear();
    process(14 + ns);
    Ipv6Header.hopLimit(slot, ipOffset(), 64);
    process(14 + ns);
    assertEquals(1, counters.get(Counter.DROP_BAD_ND));
  }

  @Test
  void shouldDropMulticastToGroupsItIsNotInAsNotForUs() {
    path(1500);
    int n = TestFrames6.echo(slot, 0xFF02_0000_0000_0000L, 0xFBL, 255);
    EthernetHeader.write(slot, HEADROOM, 0x3333_0000_00FBL, CLIENT_MAC, 0x86DD);
    process(n);
    assertEquals(1, counters.get(Counter.DROP_NOT_FOR_US));
    assertEquals(0, sent.size());
  }

  @Test
  void shouldForwardAFragmentToAnAddressWithoutServicesAsAddressed() {
    path(1500);
    int n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW + 1, 40_000, HTTP, 0x10, 0, 20, 64);
    fragment(n, 1024, true, 0x1234);
    process(n + 8);

    assertEquals(1, counters.get(Counter.FORWARDED));
    assertEquals(0, counters.get(Counter.FRAGMENTS_HELD));
    assertEquals(CORE_IF, sent.get(0).port());
  }

  @Test
  void shouldHoldAnEarlyFragmentToAServiceAndSendItBehindItsFirst() {
    path(1500);
    // The second fragment (24 bytes at offset 40) comes first: held, nothing sent yet.
    int n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 20, 64);
    fragment(n, 40, false, 0x5151);
    path.process(slot, HEADROOM, n + 8, CLIENT_IF);
    assertEquals(0, sent.size());
    assertEquals(1, counters.get(Counter.FRAGMENTS_HELD));
    assertEquals(0, counters.outcomes(), "a held fragment has no outcome yet");

    n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x10, 0, 20, 64);
    fragment(n, 0, true, 0x5151);
    process(n + 8);

    assertEquals(2, counters.get(Counter.REDIRECTED), "the first, then the held one behind it");
    assertEquals(2, sent.size());
    for (Sent s : sent) {
      assertEquals(HS_IF, s.port());
      assertEquals(41, Ipv4Header.protocol(s.buffer(), 14), "IPv6-in-IPv4 to the host server");
    }
    int inner = 14 + 20;
    assertEquals(0, Ipv6FragmentHeader.fragmentOffset(sent.get(0).buffer(), inner + 40));
    assertEquals(40, Ipv6FragmentHeader.fragmentOffset(sent.get(1).buffer(), inner + 40));
    assertEquals(63, Ipv6Header.hopLimit(sent.get(1).buffer(), inner), "hop limit one lower");
    assertEquals(8 + 40, Ipv6Header.payloadLength(sent.get(1).buffer(), inner), "as it came");
  }

  @Test
  void shouldDropAHeldFragmentWhoseFirstNeverComes() {
    path(1500);
    int n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 20, 64);
    fragment(n, 40, false, 0x5151);
    path.process(slot, HEADROOM, n + 8, CLIENT_IF);
    assertEquals(1, counters.get(Counter.FRAGMENTS_HELD));

    // Past the fragment timeout, the next fragment's arrival frees the first one's context.
    path.tick(1_000_000_000L + 120_000_000_000L);
    n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 20, 64);
    fragment(n, 40, false, 0x7777);
    path.process(slot, HEADROOM, n + 8, CLIENT_IF);

    assertEquals(1, counters.get(Counter.DROP_FRAGMENT_UNMATCHED));
    assertEquals(1, counters.get(Counter.FRAGMENTS_TIMED_OUT));
    assertEquals(0, sent.size(), "nothing derived from a datagram whose first never came");
    assertEquals(counters.get(Counter.RX_FRAMES), counters.outcomes() + 1, "one still held");
  }

  @Test
  void shouldSendTheOtherFragmentsOfARedirectedDatagramWhereItsFirstWent() {
    path(1500);
    // The first fragment: a TCP header and 16 bytes; the second: 24 more bytes at offset 40.
    int n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x10, 0, 20, 64);
    fragment(n, 0, true, 0x5151);
    process(n + 8);
    assertEquals(1, counters.get(Counter.REDIRECTED), "the first fragment");
    n = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 20, 64);
    fragment(n, 40, false, 0x5151);
    process(n + 8);

    assertEquals(2, counters.get(Counter.REDIRECTED), "the second follows the first");
    assertEquals(1, counters.get(Counter.FRAGMENTS_MATCHED));
    assertEquals(HS_IF, sent.get(1).port());
    assertEquals(41, Ipv4Header.protocol(sent.get(1).buffer(), 14));
    assertEquals(0, counters.get(Counter.FRAGMENTS_HELD));
  }

  /** Puts a fragment header in front of the upper layer of the packet in the slot. */
  private void fragment(int length, int offset, boolean more, int identification) {
    int ip = ipOffset();
    byte[] rest = new byte[length - 54];
    slot.getBytes(ip + 40, rest);
    Ipv6FragmentHeader.write(slot, ip + 40, 6, offset, more, identification);
    slot.putBytes(ip + 48, rest);
    Ipv6Header.nextHeader(slot, ip, 44);
    Ipv6Header.payloadLength(slot, ip, rest.length + 8);
  }

  @Test
  void shouldChooseAgainWhenThePinnedIpv6HostServerLeavesTheService() {
    path(1500);
    process(TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTPS, 0x02, 0, 0, 64));
    assertEquals(Ipv6Header.NEXT_HEADER_IPV6, Ipv6Header.nextHeader(sent.get(0).buffer(), 14));

    // The service now has only the IPv4 host server: the pinned flow follows the new set.
    redirects.put6(
        ORIGIN_NET, ORIGIN_LOW, 6, HTTPS, new int[] {HOST_SERVER}, new int[] {1}, 1, null);
    sent.clear();
    process(TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, 40_000, HTTPS, 0x10, 0, 5, 64));
    assertEquals(EthernetHeader.TYPE_IPV4, EthernetHeader.type(sent.get(0).buffer(), 0));
    assertEquals(41, Ipv4Header.protocol(sent.get(0).buffer(), 14));
    assertEquals(1, path.ipv6().flows().size());
    assertEquals(2, redirects.packets(redirects.lookup6(ORIGIN_NET, ORIGIN_LOW, 6, HTTPS)));
  }

  @Test
  void shouldAllocateNothingPerPacket() {
    path(1500);
    capture = false;
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    UnsafeBuffer[] frames = new UnsafeBuffer[4];
    int[] lengths = new int[4];
    for (int i = 0; i < frames.length; i++) {
      frames[i] = TestFrames.slot();
    }
    lengths[0] = TestFrames6.tcp(frames[0], ORIGIN_NET, ORIGIN_LOW, 40_000, 8080, 0x10, 0, 10, 64);
    lengths[1] = TestFrames6.tcp(frames[1], ORIGIN_NET, ORIGIN_LOW, 40_000, HTTP, 0x10, 0, 10, 64);
    lengths[2] =
        TestFrames6.tcp(frames[2], ORIGIN_NET, ORIGIN_LOW, 40_000, HTTPS, 0x10, 0, 1400, 64);
    lengths[3] = TestFrames6.echo(frames[3], ORIGIN_NET, ORIGIN_LOW, 1);
    byte[][] originals = new byte[4][];
    for (int i = 0; i < 4; i++) {
      originals[i] = new byte[lengths[i]];
      frames[i].getBytes(HEADROOM, originals[i]);
    }
    int n = 20_000;
    long before = 0;
    for (int round = 0; round < 2; round++) {
      if (round == 1) {
        before = mx.getThreadAllocatedBytes(thread);
      }
      for (int i = 0; i < n; i++) {
        int k = i & 3;
        frames[k].putBytes(HEADROOM, originals[k]);
        path.process(frames[k], HEADROOM, lengths[k], CLIENT_IF);
      }
    }
    long perPacket = (mx.getThreadAllocatedBytes(thread) - before) / n;
    assertEquals(0, perPacket, "bytes allocated per IPv6 packet");
    assertEquals(2 * n / 4 * 2, counters.get(Counter.REDIRECTED), "redirected 6in4 and 6in6");
    assertEquals(2 * n / 4, counters.get(Counter.FORWARDED));
    assertTrue(counters.get(Counter.ICMPV6_SENT_TIME_EXCEEDED) > 0, "errors sent, rate-limited");
    assertEquals(counters.get(Counter.RX_FRAMES), counters.outcomes());
  }
}
