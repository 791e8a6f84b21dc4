package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.junit.jupiter.api.Test;

/**
 * Flows pinned to a host server the control plane declared dead (issue 20, item 4): released at
 * their next packet — UDP moved to the host servers left, TCP counted lost and sent where the table
 * says now — once, and only those pinned before the declaration.
 */
class DeadHostReleaseTest extends DeadHostReleaseFixture {
  private final RedirectLookup lookup =
      new RedirectLookup(TestFrames.context(1500).conclude(), counters, redirects);

  DeadHostReleaseTest() {
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
    return TestFrames.context(1500).conclude().tcpClosingNanos();
  }

  @Override
  long declarationsCountedHere() {
    return 1;
  }

  private PacketContext packet(int length) {
    packet.reset(null, HEADROOM, length);
    packet.l3 = ipOffset();
    packet.available = length - EthernetHeader.LENGTH;
    packet.source = Ipv4Header.source(slot, ipOffset());
    packet.destination = Ipv4Header.destination(slot, ipOffset());
    return packet;
  }

  /** A UDP datagram from the client to the origin's DNS port, with 20 bytes of payload. */
  private int udp(int sourcePort) {
    int length =
        ipv4(
            slot,
            CLIENT_IF_MAC,
            CLIENT,
            ORIGIN,
            Ipv4Header.PROTOCOL_UDP,
            UdpHeader.LENGTH + 20,
            64,
            0);
    int udp = ipOffset() + Ipv4Header.MIN_LENGTH;
    slot.putShort(udp, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 2, (short) DNS, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 4, (short) (UdpHeader.LENGTH + 20), ByteOrder.BIG_ENDIAN);
    return length;
  }

  @Override
  int decideUdp(int sourcePort) {
    lookup.process(slot, packet(udp(sourcePort)));
    return packet.target;
  }

  @Override
  int decideTcp(int sourcePort, int flags) {
    lookup.process(slot, packet(tcp(slot, ORIGIN, sourcePort, HTTP, flags, 10)));
    return packet.target;
  }

  @Override
  void serve(int protocol, int port, int[] hostServers, int[] weights) {
    redirects.put(ORIGIN, protocol, port, hostServers, weights, hostServers.length);
  }

  /** The control plane's failover: the table without the host server, then the declaration. */
  @Override
  void failOver() {
    serveBoth(ALIVE);
    lookup.hostServerDead(DEAD);
  }

  @Override
  int entryOfTcp(int sourcePort) {
    return lookup
        .flows()
        .find(
            FlowTable.keyHi(CLIENT, ORIGIN),
            FlowTable.keyLo(Ipv4Header.PROTOCOL_TCP, sourcePort, HTTP),
            now);
  }

  @Test
  void shouldLeaveFlowsPinnedToOtherHostServersAndToTheOriginAlone() {
    serveBoth(DEAD, ALIVE);
    int udp = udpPortTo(ALIVE, 20_000);
    int tcp = tcpPortTo(ALIVE, 30_000);
    // A connection to a port with no service, pinned to the origin.
    lookup.process(slot, packet(tcp(slot, ORIGIN, 40_000, 22, TcpHeader.FLAG_SYN, 0)));
    assertEquals(0, packet.target);
    advance(SECOND);

    failOver();
    advance(1_000_000);
    assertEquals(ALIVE, decideUdp(udp));
    assertEquals(ALIVE, decideTcp(tcp, TcpHeader.FLAG_ACK));
    assertFalse(lookup.flows().closing(entryOfTcp(tcp)));
    lookup.process(slot, packet(tcp(slot, ORIGIN, 40_000, 22, TcpHeader.FLAG_ACK, 0)));
    assertEquals(0, packet.target);
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldCountAFlowOnceWhenItsPacketComesBetweenTheDeclarationAndTheTableWrite() {
    serveBoth(DEAD, ALIVE);
    int port = udpPortTo(DEAD, 20_000);
    advance(SECOND);
    lookup.hostServerDead(DEAD); // the control plane's order: the notice, then the writes
    advance(1_000_000);
    assertEquals(DEAD, decideUdp(port), "released, but the hash still names it");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
    serveBoth(ALIVE);
    advance(1_000_000);
    assertEquals(ALIVE, decideUdp(port), "moved by the write");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP), "counted once");
  }

  @Test
  void shouldReleaseAFlowSeenInTheDeclarationsOwnTickOnlyOnce() {
    serveBoth(DEAD, ALIVE);
    int port = udpPortTo(DEAD, 20_000);
    // No tick between the flow's packet and the declaration, nor after it.
    failOver();
    assertEquals(ALIVE, decideUdp(port));
    assertEquals(ALIVE, decideUdp(port));
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
  }

  @Test
  void shouldReleaseAnOldFlowEvenAfterItsHostServerCameBackButKeepNewOnes() {
    serveBoth(DEAD, ALIVE);
    int old = udpPortTo(DEAD, 20_000);
    advance(SECOND);
    failOver();
    advance(SECOND);
    // Back (a restart), in the set again before the old flow's next packet.
    serveBoth(DEAD, ALIVE);
    int fresh = udpPortTo(DEAD, old + 1);
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP), "a new flow is no old one");
    advance(SECOND);

    decideUdp(old);
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP), "the old flow is released");
    assertEquals(DEAD, decideUdp(fresh), "a flow pinned after the return stays");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
  }

  @Test
  void shouldSendAReleasedConnectionToTheOriginWhenItsServiceIsGone() {
    serve(Ipv4Header.PROTOCOL_TCP, HTTP, DEAD);
    serve(Ipv4Header.PROTOCOL_UDP, DNS, ALIVE);
    int tcp = tcpPortTo(DEAD, 30_000);
    advance(SECOND);
    // DEAD was the service's last host server: the control plane removes the service.
    redirects.remove(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP);
    lookup.hostServerDead(DEAD);
    advance(1_000_000);
    assertEquals(0, decideTcp(tcp, TcpHeader.FLAG_ACK), "to the origin, whose RST ends it");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldSendFlowsToAnAddressWithNoServiceLeftToTheOriginUncounted() {
    serveBoth(DEAD);
    int udp = udpPortTo(DEAD, 20_000);
    int tcp = tcpPortTo(DEAD, 30_000);
    advance(SECOND);
    redirects.remove(ORIGIN, Ipv4Header.PROTOCOL_UDP, DNS);
    redirects.remove(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP);
    lookup.hostServerDead(DEAD);
    advance(1_000_000);
    // Packets to an address without services never consult the table (one hash probe, not a
    // connection-table probe, for all transit traffic), so these go to the origin as forwarded
    // traffic, released by the services' removal, and are not counted: the documented limit.
    assertEquals(0, decideUdp(udp));
    assertEquals(0, decideTcp(tcp, TcpHeader.FLAG_ACK));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldForgetTheDeclarationOnceEveryFlowItConcernsHasExpired() {
    serveBoth(DEAD, ALIVE);
    int port = udpPortTo(DEAD, 20_000);
    failOver();
    assertEquals(1, lookup.deadHostServers().size());
    long tcpIdle = TestFrames.context(1500).conclude().tcpIdleNanos();
    advance(tcpIdle + 2); // declared at the tick + 1 ns; forgotten once older than the timeout
    assertEquals(0, lookup.deadHostServers().size());
    assertEquals(ALIVE, decideUdp(port), "the flow expired meanwhile: chosen afresh");
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
  }
}
