package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.CLIENT_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames.HEADROOM;
import static net.hydranet.forwarding.element.TestFrames.HTTP;
import static net.hydranet.forwarding.element.TestFrames.ip;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_LOW;
import static net.hydranet.forwarding.element.TestFrames6.CLIENT_NET;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_LOW;
import static net.hydranet.forwarding.element.TestFrames6.ORIGIN_NET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.junit.jupiter.api.Test;

/**
 * IPv6 flows pinned to a host server the control plane declared dead (issue 21, "a replica's
 * failover over IPv6"): released at their next packet as IPv4 ones are ({@link
 * DeadHostReleaseTest}) — UDP moved and counted, TCP counted lost and marked closing — once, and
 * only those pinned before the declaration. Before this, {@link RedirectLookup6} had no record of
 * the declaration: a flow moved only when its host server left the set, uncounted, and an old flow
 * stayed on a host server that came back.
 */
class DeadHostRelease6Test extends DeadHostReleaseFixture {
  private final RedirectLookup6 lookup =
      new RedirectLookup6(TestFrames6.context(1500).conclude(), counters, redirects);

  DeadHostRelease6Test() {
    lookup.tick(now);
  }

  @Override
  void tick(long nanos) {
    lookup.tick(nanos);
  }

  @Override
  FlowTable flows() {
    return lookup.flows();
  }

  @Override
  long tcpClosingNanos() {
    return TestFrames6.context(1500).conclude().tcpClosingNanos();
  }

  /** The declaration is counted once, by the IPv4 lookup. */
  @Override
  long declarationsCountedHere() {
    return 0;
  }

  /** The context Ip6Input leaves for an unfragmented packet from the client to the origin. */
  private PacketContext packet(int length, int protocol) {
    int ip = TestFrames6.ipOffset();
    packet.reset(null, HEADROOM, length);
    packet.l3 = ip;
    packet.available = length - EthernetHeader.LENGTH;
    packet.source6High = Ipv6Header.sourceHigh(slot, ip);
    packet.source6Low = Ipv6Header.sourceLow(slot, ip);
    packet.destination6High = Ipv6Header.destinationHigh(slot, ip);
    packet.destination6Low = Ipv6Header.destinationLow(slot, ip);
    packet.protocol = protocol;
    packet.upper = ip + Ipv6Header.LENGTH;
    packet.upperLength = length - EthernetHeader.LENGTH - Ipv6Header.LENGTH;
    packet.fragment6 = -1;
    return packet;
  }

  @Override
  int decideUdp(int sourcePort) {
    int length =
        TestFrames6.ipv6(
            slot,
            CLIENT_IF_MAC,
            CLIENT_NET,
            CLIENT_LOW,
            ORIGIN_NET,
            ORIGIN_LOW,
            Ipv6Header.NEXT_HEADER_UDP,
            UdpHeader.LENGTH + 20,
            64);
    int udp = TestFrames6.ipOffset() + Ipv6Header.LENGTH;
    slot.putShort(udp, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 2, (short) DNS, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 4, (short) (UdpHeader.LENGTH + 20), ByteOrder.BIG_ENDIAN);
    lookup.process(slot, packet(length, Ipv6Header.NEXT_HEADER_UDP));
    return packet.target;
  }

  @Override
  int decideTcp(int sourcePort, int flags) {
    int length = TestFrames6.tcp(slot, ORIGIN_NET, ORIGIN_LOW, sourcePort, HTTP, flags, 0, 10, 64);
    lookup.process(slot, packet(length, Ipv6Header.NEXT_HEADER_TCP));
    return packet.target;
  }

  @Override
  void serve(int protocol, int port, int[] hostServers, int[] weights) {
    redirects.put6(
        ORIGIN_NET, ORIGIN_LOW, protocol, port, hostServers, weights, hostServers.length, null);
  }

  /** The control plane's failover: the declaration, then the table without the host server. */
  @Override
  void failOver() {
    lookup.hostServerDead(DEAD);
    serveBoth(ALIVE);
  }

  @Override
  int entryOfTcp(int sourcePort) {
    return lookup
        .flows()
        .find(
            lookup.tableKey(CLIENT_NET, CLIENT_LOW, ORIGIN_NET, ORIGIN_LOW),
            FlowTable.keyLo(Ipv6Header.NEXT_HEADER_TCP, sourcePort, HTTP),
            now);
  }

  @Test
  void shouldLeaveFlowsPinnedToTheHostServerLeftAlone() {
    serveBoth(DEAD, ALIVE);
    int udp = udpPortTo(ALIVE, 20_000);
    int tcp = tcpPortTo(ALIVE, 30_000);
    advance(SECOND);

    failOver();
    advance(1_000_000);
    assertEquals(ALIVE, decideUdp(udp));
    assertEquals(ALIVE, decideTcp(tcp, TcpHeader.FLAG_ACK));
    assertFalse(lookup.flows().closing(entryOfTcp(tcp)));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldReleaseAnOldFlowEvenAfterItsHostServerCameBackButKeepNewOnes() {
    serveBoth(DEAD, ALIVE);
    int old = tcpPortTo(DEAD, 30_000);
    advance(SECOND);
    failOver();
    advance(SECOND);
    // Back (a restart: no socket for the old connection), in the set again before its next segment.
    serveBoth(DEAD, ALIVE);
    int fresh = tcpPortTo(DEAD, old + 1);
    advance(SECOND);

    decideTcp(old, TcpHeader.FLAG_ACK);
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP), "the old one is lost");
    assertTrue(lookup.flows().closing(entryOfTcp(old)));
    assertEquals(DEAD, decideTcp(fresh, TcpHeader.FLAG_ACK), "one pinned after the return stays");
    assertFalse(lookup.flows().closing(entryOfTcp(fresh)));
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldForgetTheDeclarationOnceEveryFlowItConcernsHasExpired() {
    serveBoth(DEAD, ALIVE);
    failOver();
    var context = TestFrames6.context(1500).conclude();
    long longest =
        Math.max(
            context.tcpIdleNanos(), Math.max(context.tcpClosingNanos(), context.udpIdleNanos()));
    advance(longest + SECOND);
    serveBoth(DEAD, ALIVE);
    int port = udpPortTo(DEAD, 20_000);
    advance(SECOND);
    assertEquals(DEAD, decideUdp(port));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
  }
}
