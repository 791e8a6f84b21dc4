package net.hydranet.forwarding.pipeline;

import static net.hydranet.forwarding.element.TestFrames.CLIENT;
import static net.hydranet.forwarding.element.TestFrames.CLIENT_IF;
import static net.hydranet.forwarding.element.TestFrames.CLIENT_MAC;
import static net.hydranet.forwarding.element.TestFrames.CORE_IF;
import static net.hydranet.forwarding.element.TestFrames.CORE_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames.HEADROOM;
import static net.hydranet.forwarding.element.TestFrames.HOST_SERVER_MAC;
import static net.hydranet.forwarding.element.TestFrames.HS_IF;
import static net.hydranet.forwarding.element.TestFrames.ORIGIN;
import static net.hydranet.forwarding.element.TestFrames.ip;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_LOW;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_NET;
import static net.hydranet.forwarding.element.TestFrames6.HOST_SERVER_LOW;
import static net.hydranet.forwarding.element.TestFrames6.HS_NET;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_LOW;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_NET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.TestFrames;
import net.hydranet.forwarding.element.TestFrames6;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The MSS a SYN leaves with, per encapsulation, through the whole {@link ForwardingPath}: exactly
 * the link's MTU less the tunnel's bytes, the inner IP header and 20 of TCP — 20 for IP-in-IP and
 * IPv6-in-IPv4, 40 for IPv6-in-IPv6, and for the second chance's GUE 36 + 4 a hop of the list the
 * redirector writes (its own address and up to three other host servers). For a redirected SYN the
 * tunnel's bytes are read back from the frame that left, so the clamp is checked against the header
 * actually written; the origin's SYN-ACK of a replicated service is clamped for the longest tunnel
 * that service's flows may be given. All links are 1500 bytes.
 */
class TunnelMssTest {
  private static final int MTU = 1500;
  private static final int HTTPS = 443;
  private static final int HOST_SERVER_ID = 1;
  private static final int CLIENT_PORT = 40_000;
  private static final int HOST_SERVERS = 5;

  /** How the service's host servers are reached. */
  enum Tunnel {
    IPIP,
    GUE
  }

  /**
   * One row: the service's host servers ({@code hostServers} IPv4 ones, in {@code tunnel}), the SYN
   * (redirected from the client, or the origin's SYN-ACK forwarded to the client), the MSS expected
   * out and the tunnel's bytes (0 for a forwarded one).
   */
  record Row(
      String description,
      Tunnel tunnel,
      int hostServers,
      boolean ipv6,
      boolean fromOrigin,
      int expectedMss,
      int expectedOverhead) {
    @Override
    public String toString() {
      return description;
    }
  }

  static Stream<Arguments> rows() {
    return Stream.of(
            new Row("IP-in-IP: 1500 − 20 − 20 − 20", Tunnel.IPIP, 1, false, false, 1440, 20),
            new Row(
                "GUE, one host server: hop list [R], 20 + 8 + 4 + 4 + 4",
                Tunnel.GUE,
                1,
                false,
                false,
                1420,
                40),
            new Row("GUE, two host servers: list of 2", Tunnel.GUE, 2, false, false, 1416, 44),
            new Row("GUE, three host servers: list of 3", Tunnel.GUE, 3, false, false, 1412, 48),
            new Row("GUE, four host servers: list of 4", Tunnel.GUE, 4, false, false, 1408, 52),
            new Row(
                "GUE, five host servers: three candidates and R, still 52",
                Tunnel.GUE,
                5,
                false,
                false,
                1408,
                52),
            new Row("IPv6-in-IPv4: 1500 − 20 − 40 − 20", Tunnel.IPIP, 1, true, false, 1420, 20),
            new Row(
                "IPv6-in-IPv6 (an IPv6 host server): 1500 − 40 − 40 − 20",
                Tunnel.IPIP,
                0,
                true,
                false,
                1400,
                40),
            new Row(
                "origin's SYN-ACK, IP-in-IP service: as its redirected SYNs",
                Tunnel.IPIP,
                2,
                false,
                true,
                1440,
                0),
            new Row(
                "origin's SYN-ACK, GUE service of two: 1416 (IP-in-IP's 1440 was 24 B too many)",
                Tunnel.GUE,
                2,
                false,
                true,
                1416,
                0),
            new Row(
                "origin's SYN-ACK, GUE service of four: 1408 (1440 was 32 B too many)",
                Tunnel.GUE,
                4,
                false,
                true,
                1408,
                0),
            new Row(
                "origin's IPv6 SYN-ACK, IPv6-in-IPv4 service: 1420",
                Tunnel.IPIP,
                1,
                true,
                true,
                1420,
                0),
            new Row(
                "origin's IPv6 SYN-ACK, IPv6-in-IPv6 service: 1400 (1420 was 20 B too many)",
                Tunnel.IPIP,
                0,
                true,
                true,
                1400,
                0))
        .map(Arguments::of);
  }

  private final List<byte[]> sent = new ArrayList<>();
  private final Counters counters = new Counters();
  private final UnsafeBuffer slot = TestFrames.slot();

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void shouldClampTheMssToExactlyWhatTheTunnelLeaves(Row row) {
    ForwardingPath path = path(row);
    int length;
    int port;
    if (row.ipv6()) {
      port = row.hostServers() == 0 ? HTTPS : TestFrames.HTTP;
      length =
          row.fromOrigin()
              ? synAck6(port)
              : TestFrames6.tcp(
                  slot, ORIGIN_NET, ORIGIN_LOW, CLIENT_PORT, port, TcpHeader.FLAG_SYN, 1460, 0, 64);
    } else {
      length = row.fromOrigin() ? synAck4() : syn4();
    }
    int innerLength = length - EthernetHeader.LENGTH;
    int innerHeader = row.ipv6() ? Ipv6Header.LENGTH : Ipv4Header.MIN_LENGTH;

    path.process(slot, HEADROOM, length, row.fromOrigin() ? CORE_IF : TestFrames.CLIENT_IF);

    assertEquals(1, sent.size(), "one frame out: " + counters);
    assertEquals(1, counters.get(Counter.MSS_CLAMPED), "clamped: " + counters);
    UnsafeBuffer out = new UnsafeBuffer(sent.get(0));
    int outer = EthernetHeader.LENGTH;
    int outerLength =
        EthernetHeader.type(out, 0) == EthernetHeader.TYPE_IPV6
            ? Ipv6Header.LENGTH + Ipv6Header.payloadLength(out, outer)
            : Ipv4Header.totalLength(out, outer);
    int overhead = outerLength - innerLength;
    assertEquals(row.expectedOverhead(), overhead, "the tunnel's bytes");
    int tcp = EthernetHeader.LENGTH + overhead + innerHeader;
    int mss = out.getShort(tcp + TcpHeader.MIN_LENGTH + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    if (!row.fromOrigin()) {
      // The clamp is exact: a segment of MSS bytes fills the host server's link to the byte.
      assertEquals(MTU, mss + TcpHeader.MIN_LENGTH + innerHeader + overhead, "exact fit");
    }
    assertEquals(row.expectedMss(), mss);
    assertTrue(validTcpChecksum(out, EthernetHeader.LENGTH + overhead, row.ipv6()), "checksum");
  }

  // ---- the redirector: TestFrames' three interfaces, the service in the row's tunnel ----

  private ForwardingPath path(Row row) {
    int[] hostServers = new int[Math.max(row.hostServers(), 1)];
    for (int i = 0; i < hostServers.length; i++) {
      hostServers[i] = ip(198, 18, 2, 5 + i);
    }
    ForwardingContext context = TestFrames6.context(MTU);
    if (row.tunnel() == Tunnel.GUE) {
      context.gueHostServers(hostServers);
    }
    context = context.conclude();
    RedirectorTable redirects = new RedirectorTable(64, HOST_SERVERS);
    int[] weights = new int[hostServers.length];
    Arrays.fill(weights, 1);
    int count = row.hostServers();
    if (row.ipv6()) {
      redirects.put6(ORIGIN_NET, ORIGIN_LOW, 6, TestFrames.HTTP, hostServers, weights, 1, null);
      redirects.put6(
          ORIGIN_NET, ORIGIN_LOW, 6, HTTPS, new int[] {HOST_SERVER_ID}, new int[] {1}, 1, null);
    } else {
      redirects.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, TestFrames.HTTP, hostServers, weights, count);
    }
    RouteTable routes = new RouteTable(64);
    for (var i : context.interfaces()) {
      routes.add(i.network(), i.prefixLength(), 0, i.index());
    }
    routes.add(ip(198, 19, 0, 0), 16, TestFrames.GATEWAY, CORE_IF);
    NeighbourTable neighbours =
        new NeighbourTable(64, 16, 9_100, 4, 3, 1_000_000_000L, 60_000_000_000L);
    neighbours.putStatic(CLIENT, CLIENT_MAC, CLIENT_IF);
    for (int h : hostServers) {
      neighbours.putStatic(h, HOST_SERVER_MAC, HS_IF);
    }
    TxPort[] ports = new TxPort[3];
    for (int i = 0; i < ports.length; i++) {
      ports[i] =
          new TxPort() {
            @Override
            public boolean send(DirectBuffer buffer, int offset, int length, long timestamp) {
              byte[] copy = new byte[length];
              buffer.getBytes(offset, copy);
              sent.add(copy);
              return true;
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          };
    }
    ForwardingPath path =
        new ForwardingPath(context, counters, redirects, routes, neighbours, ports);
    Ipv6Path v6 = path.ipv6();
    v6.neighbours().putStatic(CLIENT_NET, CLIENT_LOW, CLIENT_MAC, CLIENT_IF);
    v6.neighbours().putStatic(HS_NET, HOST_SERVER_LOW, HOST_SERVER_MAC, HS_IF);
    v6.hostServers().put(HOST_SERVER_ID, HS_NET, HOST_SERVER_LOW);
    path.tick(1_000_000_000L);
    return path;
  }

  // ---- frames ----

  /** A SYN from the client to the origin's port 80 with MSS 1460 and a valid checksum. */
  private int syn4() {
    return tcp4(
        TestFrames.CLIENT_IF_MAC, CLIENT, ORIGIN, CLIENT_PORT, TestFrames.HTTP, TcpHeader.FLAG_SYN);
  }

  /** The origin's SYN-ACK from port 80 to the client, arriving on core0. */
  private int synAck4() {
    return tcp4(
        CORE_IF_MAC,
        ORIGIN,
        CLIENT,
        TestFrames.HTTP,
        CLIENT_PORT,
        TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK);
  }

  private int tcp4(long mac, int source, int destination, int sourcePort, int port, int flags) {
    int header = TcpHeader.MIN_LENGTH + 4;
    int length =
        TestFrames.ipv4(
            slot,
            mac,
            source,
            destination,
            Ipv4Header.PROTOCOL_TCP,
            header,
            64,
            Ipv4Header.FLAG_DF);
    Ipv4Header.updateChecksum(slot, TestFrames.ipOffset());
    int tcp = TestFrames.ipOffset() + Ipv4Header.MIN_LENGTH;
    slot.putShort(tcp + TcpHeader.SOURCE_PORT_OFFSET, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(tcp + TcpHeader.DESTINATION_PORT_OFFSET, (short) port, ByteOrder.BIG_ENDIAN);
    slot.putByte(tcp + TcpHeader.DATA_OFFSET_OFFSET, (byte) ((header / 4) << 4));
    slot.putByte(tcp + TcpHeader.FLAGS_OFFSET, (byte) flags);
    slot.putByte(tcp + 20, (byte) TcpHeader.OPTION_MSS);
    slot.putByte(tcp + 21, (byte) 4);
    slot.putShort(tcp + 22, (short) 1460, ByteOrder.BIG_ENDIAN);
    TcpHeader.checksum(slot, tcp, 0);
    TcpHeader.checksum(
        slot, tcp, ~InternetChecksum.fold(sum4(slot, TestFrames.ipOffset())) & 0xFFFF);
    return length;
  }

  /** The IPv6 origin's SYN-ACK from {@code port} to the client, arriving on core0. */
  private int synAck6(int port) {
    int length =
        TestFrames6.tcp(
            slot,
            CLIENT_NET,
            CLIENT_LOW,
            port,
            CLIENT_PORT,
            TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK,
            1440,
            0,
            64);
    int ip = TestFrames6.ipOffset();
    EthernetHeader.write(slot, HEADROOM, CORE_IF_MAC, CLIENT_MAC, EthernetHeader.TYPE_IPV6);
    Ipv6Header.address(slot, ip + Ipv6Header.SOURCE_OFFSET, ORIGIN_NET, ORIGIN_LOW);
    Ipv6Header.updateTcpChecksum(slot, ip, ip + Ipv6Header.LENGTH, TcpHeader.MIN_LENGTH + 4);
    return length;
  }

  /** The one's-complement sum of an IPv4 TCP segment with its pseudo-header (RFC 9293 §3.1). */
  private static long sum4(DirectBuffer b, int ip) {
    int length = Ipv4Header.totalLength(b, ip) - Ipv4Header.headerLength(b, ip);
    long pseudo =
        (Ipv4Header.source(b, ip) >>> 16)
            + (Ipv4Header.source(b, ip) & 0xFFFF)
            + (Ipv4Header.destination(b, ip) >>> 16)
            + (Ipv4Header.destination(b, ip) & 0xFFFF)
            + Ipv4Header.PROTOCOL_TCP
            + length;
    return InternetChecksum.sum(b, ip + Ipv4Header.headerLength(b, ip), length, pseudo);
  }

  private static boolean validTcpChecksum(DirectBuffer b, int ip, boolean ipv6) {
    if (ipv6) {
      int length = Ipv6Header.payloadLength(b, ip);
      long pseudo = Ipv6Header.pseudoHeaderSum(b, ip, length, Ipv6Header.NEXT_HEADER_TCP);
      return InternetChecksum.fold(InternetChecksum.sum(b, ip + Ipv6Header.LENGTH, length, pseudo))
          == 0xFFFF;
    }
    return InternetChecksum.fold(sum4(b, ip)) == 0xFFFF;
  }
}
