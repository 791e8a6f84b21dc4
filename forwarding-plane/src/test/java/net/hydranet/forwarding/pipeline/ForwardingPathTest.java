package net.hydranet.forwarding.pipeline;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.TestFrames;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The whole element graph of the redirector on real bytes, one frame at a time. */
class ForwardingPathTest {
  private final List<Sent> sent = new ArrayList<>();
  private final Counters counters = new Counters();
  private final UnsafeBuffer slot = TestFrames.slot();
  private ForwardingPath path;

  record Sent(int port, UnsafeBuffer frame) {
    int ip() {
      return EthernetHeader.LENGTH;
    }
  }

  private ForwardingPath path(int hostServerMtu) {
    path = newPath(hostServerMtu, counters, sent);
    return path;
  }

  /**
   * The redirector of {@link TestFrames} — one service, ORIGIN:80 on HOST_SERVER — its clock
   * started, counting into {@code counters} and copying every frame it sends into {@code sent}.
   */
  static ForwardingPath newPath(int hostServerMtu, Counters counters, List<Sent> sent) {
    ForwardingContext context = TestFrames.context(hostServerMtu).conclude();
    RedirectorTable redirects = new RedirectorTable(64, 4);
    redirects.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP, new int[] {HOST_SERVER}, new int[] {1}, 1);
    RouteTable routes = new RouteTable(64);
    for (var i : context.interfaces()) {
      routes.add(i.network(), i.prefixLength(), 0, i.index());
    }
    routes.add(ip(198, 19, 0, 0), 16, GATEWAY, CORE_IF);
    NeighbourTable neighbours =
        new NeighbourTable(64, 16, 9_100, 4, 3, 1_000_000_000L, 60_000_000_000L);
    neighbours.putStatic(CLIENT, CLIENT_MAC, CLIENT_IF);
    neighbours.putStatic(GATEWAY, GATEWAY_MAC, CORE_IF);
    neighbours.putStatic(HOST_SERVER, HOST_SERVER_MAC, HS_IF);
    TxPort[] ports = new TxPort[3];
    for (int i = 0; i < ports.length; i++) {
      int index = i;
      ports[i] =
          new TxPort() {
            @Override
            public boolean send(DirectBuffer buffer, int offset, int length, long timestamp) {
              byte[] copy = new byte[length];
              buffer.getBytes(offset, copy);
              sent.add(new Sent(index, new UnsafeBuffer(copy)));
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
    path.tick(1_000_000_000L);
    return path;
  }

  private void process(int length) {
    path.process(slot, HEADROOM, length, CLIENT_IF);
    assertEquals(counters.get(Counter.RX_FRAMES), counters.outcomes(), "one outcome a frame");
  }

  @Test
  void shouldForwardToTheOriginThroughTheGatewayWithTtlLessOne() {
    path(1500);
    process(tcp(slot, ORIGIN, 40_000, 8080, TcpHeader.FLAG_ACK, 10));

    assertEquals(1, counters.get(Counter.FORWARDED));
    assertEquals(1, sent.size());
    Sent out = sent.get(0);
    assertEquals(CORE_IF, out.port());
    assertEquals(GATEWAY_MAC, EthernetHeader.destination(out.frame(), 0));
    assertEquals(CORE_IF_MAC, EthernetHeader.source(out.frame(), 0));
    assertEquals(63, Ipv4Header.ttl(out.frame(), out.ip()));
    assertTrue(InternetChecksum.verify(out.frame(), out.ip(), Ipv4Header.MIN_LENGTH));
  }

  @Test
  void shouldRedirectAServiceSynInIpipAndPinItsFlow() {
    path(1500);
    process(tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_SYN, 0));

    assertEquals(1, counters.get(Counter.REDIRECTED));
    assertEquals(1, path.flows().size());
    Sent out = sent.get(0);
    assertEquals(HS_IF, out.port());
    assertEquals(HOST_SERVER_MAC, EthernetHeader.destination(out.frame(), 0));
    int outer = out.ip();
    assertEquals(Ipv4Header.PROTOCOL_IPIP, Ipv4Header.protocol(out.frame(), outer));
    assertEquals(HS_IF_IP, Ipv4Header.source(out.frame(), outer));
    assertEquals(HOST_SERVER, Ipv4Header.destination(out.frame(), outer));
    int inner = outer + Ipv4Header.MIN_LENGTH;
    assertEquals(ORIGIN, Ipv4Header.destination(out.frame(), inner));
    assertEquals(63, Ipv4Header.ttl(out.frame(), inner));
    assertEquals(40 + 20, Ipv4Header.totalLength(out.frame(), outer));
  }

  @Test
  void shouldAnswerAnEchoRequestToItsOwnAddress() {
    path(1500);
    process(echo(slot, CLIENT_IF_IP, 64));

    assertEquals(1, counters.get(Counter.DELIVERED_LOCAL));
    assertEquals(1, counters.get(Counter.ICMP_SENT_ECHO_REPLY));
    Sent out = sent.get(0);
    assertEquals(CLIENT_IF, out.port());
    assertEquals(CLIENT, Ipv4Header.destination(out.frame(), out.ip()));
    assertEquals(CLIENT_IF_IP, Ipv4Header.source(out.frame(), out.ip()));
    int icmp = out.ip() + Ipv4Header.MIN_LENGTH;
    assertEquals(IcmpHeader.TYPE_ECHO_REPLY, IcmpHeader.type(out.frame(), icmp));
    assertTrue(InternetChecksum.verify(out.frame(), icmp, IcmpHeader.LENGTH + 4));
  }

  @Test
  void shouldSendTimeExceededForTtlOneAndDropTheDatagram() {
    path(1500);
    process(echo(slot, ORIGIN, 1));

    assertEquals(1, counters.get(Counter.DROP_TTL_EXCEEDED));
    assertEquals(1, counters.get(Counter.ICMP_SENT_TIME_EXCEEDED));
    Sent out = sent.get(0);
    assertEquals(CLIENT_IF, out.port());
    assertEquals(
        IcmpHeader.TYPE_TIME_EXCEEDED,
        IcmpHeader.type(out.frame(), out.ip() + Ipv4Header.MIN_LENGTH));
  }

  @Test
  void shouldTellTheSourceTheTunnelMtuForADfDatagramTooBigToRedirect() {
    path(1500);
    int length = tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_ACK, 1500 - 40);
    setDontFragment(slot);
    process(length);

    assertEquals(1, counters.get(Counter.DROP_FRAG_NEEDED));
    assertEquals(1, counters.get(Counter.ICMP_SENT_FRAG_NEEDED));
    Sent out = sent.get(0);
    assertEquals(CLIENT_IF, out.port());
    int icmp = out.ip() + Ipv4Header.MIN_LENGTH;
    assertEquals(IcmpHeader.CODE_FRAGMENTATION_NEEDED, IcmpHeader.code(out.frame(), icmp));
    assertEquals(1480, IcmpHeader.nextHopMtu(out.frame(), icmp));
    int quoted = icmp + IcmpHeader.LENGTH;
    assertEquals(64, Ipv4Header.ttl(out.frame(), quoted), "quoted as received");
    assertTrue(InternetChecksum.verify(out.frame(), quoted, Ipv4Header.MIN_LENGTH));
  }

  @Test
  void shouldFragmentARedirectedDatagramWithoutDf() {
    path(1500);
    process(tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_ACK, 1500 - 40));

    assertEquals(1, counters.get(Counter.REDIRECTED));
    assertEquals(1, counters.get(Counter.FRAGMENTED_DATAGRAMS));
    assertEquals(2, sent.size());
    for (Sent out : sent) {
      assertEquals(HS_IF, out.port());
      assertTrue(Ipv4Header.totalLength(out.frame(), out.ip()) <= 1500);
    }
  }

  @Test
  void shouldAnswerAnArpRequestForItsAddress() {
    path(1500);
    int frame = HEADROOM;
    EthernetHeader.write(
        slot, frame, EthernetHeader.BROADCAST, CLIENT_MAC, EthernetHeader.TYPE_ARP);
    ArpPacket.write(
        slot,
        frame + EthernetHeader.LENGTH,
        ArpPacket.OPERATION_REQUEST,
        CLIENT_MAC,
        CLIENT,
        0,
        CLIENT_IF_IP);
    process(EthernetHeader.LENGTH + ArpPacket.LENGTH);

    assertEquals(1, counters.get(Counter.DELIVERED_LOCAL));
    assertEquals(1, counters.get(Counter.ARP_REPLIES_SENT));
    Sent out = sent.get(0);
    assertEquals(
        ArpPacket.OPERATION_REPLY, ArpPacket.operation(out.frame(), EthernetHeader.LENGTH));
    assertEquals(CLIENT_IF_MAC, ArpPacket.senderMac(out.frame(), EthernetHeader.LENGTH));
  }

  @Test
  void shouldEndEveryFrameInExactlyOneOutcomeWhateverItHolds() {
    path(1500);
    Random random = new Random(19);
    byte[] bytes = new byte[200];
    for (int i = 0; i < 5_000; i++) {
      int length = tcp(slot, ORIGIN, random.nextInt(65_536), HTTP, random.nextInt(256), 20);
      // Corrupt a few bytes anywhere, or cut the frame short.
      random.nextBytes(bytes);
      for (int k = random.nextInt(4); k > 0; k--) {
        slot.putByte(HEADROOM + random.nextInt(length), bytes[k]);
      }
      process(random.nextInt(8) == 0 ? random.nextInt(length + 1) : length);
    }
    assertEquals(5_000, counters.get(Counter.RX_FRAMES));
  }
}
