package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class RedirectLookupTest {
  private static final int HS2 = ip(198, 18, 2, 6);
  private static final int HS3 = ip(198, 18, 2, 7);

  private final Counters counters = new Counters();
  private final RedirectorTable redirects = new RedirectorTable(64, 4);
  private final RedirectLookup lookup =
      new RedirectLookup(TestFrames.context(1500).conclude(), counters, redirects);
  private final UnsafeBuffer slot = TestFrames.slot();
  private final PacketContext packet = new PacketContext();

  RedirectLookupTest() {
    lookup.tick(1_000_000_000L);
  }

  /** What the classifier and IpInput would have set. */
  private PacketContext packet(int length) {
    packet.reset(null, HEADROOM, length);
    packet.l3 = ipOffset();
    packet.available = length - EthernetHeader.LENGTH;
    packet.source = Ipv4Header.source(slot, ipOffset());
    packet.destination = Ipv4Header.destination(slot, ipOffset());
    return packet;
  }

  private int decide(int length) {
    return lookup.process(slot, packet(length));
  }

  private void serve(int... hostServers) {
    int[] weights = new int[hostServers.length];
    java.util.Arrays.fill(weights, 1);
    redirects.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP, hostServers, weights, hostServers.length);
  }

  @Test
  void shouldSendAServiceSynToItsHostServerAndPinTheFlow() {
    serve(HOST_SERVER);
    assertEquals(
        RedirectLookup.HOST_SERVER, decide(tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_SYN, 0)));
    assertEquals(HOST_SERVER, packet.target);
    assertEquals(1, lookup.flows().size());
    assertEquals(1, counters.get(Counter.FLOWS_CREATED));
  }

  @Test
  void shouldKeepPinnedFlowsWhereTheyWereWhenTheSetGrows() {
    serve(HOST_SERVER, HS2);
    int flows = 300;
    int[] first = new int[flows];
    for (int i = 0; i < flows; i++) {
      decide(tcp(slot, ORIGIN, 10_000 + i, HTTP, TcpHeader.FLAG_SYN, 0));
      first[i] = packet.target;
    }
    serve(HOST_SERVER, HS2, HS3);
    int wouldMove = 0;
    for (int i = 0; i < flows; i++) {
      decide(tcp(slot, ORIGIN, 10_000 + i, HTTP, TcpHeader.FLAG_ACK, 10));
      assertEquals(first[i], packet.target, "flow " + i + " stays pinned");
      int service = redirects.lookup(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP);
      if (redirects.select(service, flowHashOf(packet)) != first[i]) {
        wouldMove++;
      }
    }
    assertTrue(wouldMove > 0, "the hash alone would have moved some flows");
  }

  @Test
  void shouldPinASynToAnAddressWithoutServiceToTheOrigin() {
    serve(HOST_SERVER);
    int other = ip(198, 19, 0, 81);
    assertEquals(
        RedirectLookup.ORIGIN, decide(tcp(slot, other, 40_000, 80, TcpHeader.FLAG_SYN, 0)));
    assertEquals(RedirectorTable.NOT_FOUND, packet.service);
    assertEquals(1, lookup.flows().size());
    assertEquals(
        RedirectLookup.ORIGIN, decide(tcp(slot, other, 40_000, 80, TcpHeader.FLAG_ACK, 0)));
    assertEquals(1, lookup.flows().size(), "only the SYN is recorded");
  }

  @Test
  void shouldDropATcpSegmentShorterThanItsHeader() {
    int length = tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_SYN, 0);
    Ipv4Header.totalLength(slot, ipOffset(), 30);
    Ipv4Header.updateChecksum(slot, ipOffset());
    assertEquals(RedirectLookup.DROP, decide(length - 10));
    assertEquals(1, counters.get(Counter.DROP_BAD_TRANSPORT));
    assertEquals(0, lookup.flows().size());
  }

  @Test
  void shouldSteerAnIcmpErrorAboutARedirectedFlowToItsHostServer() {
    serve(HOST_SERVER, HS2);
    decide(tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_SYN, 0));
    int pinned = packet.target;

    // A router on the way back says the origin's reply to the client was too big.
    int quotedLength = Ipv4Header.MIN_LENGTH + 8;
    int length =
        ipv4(
            slot,
            CLIENT_IF_MAC,
            ip(198, 18, 0, 99),
            ORIGIN,
            Ipv4Header.PROTOCOL_ICMP,
            IcmpHeader.LENGTH + quotedLength,
            64,
            0);
    int icmp = ipOffset() + Ipv4Header.MIN_LENGTH;
    IcmpHeader.write(slot, icmp, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4, 1400);
    int quoted = icmp + IcmpHeader.LENGTH;
    Ipv4Header.write(slot, quoted, 0, 1500, 1, 0, 60, Ipv4Header.PROTOCOL_TCP, ORIGIN, CLIENT);
    slot.putShort(quoted + 20, (short) HTTP, ByteOrder.BIG_ENDIAN);
    slot.putShort(quoted + 22, (short) 40_000, ByteOrder.BIG_ENDIAN);

    assertEquals(RedirectLookup.HOST_SERVER, lookup.steerIcmpError(slot, packet(length)));
    assertEquals(pinned, packet.target);
    assertEquals(RedirectorTable.NOT_FOUND, packet.service);
    assertEquals(1, counters.get(Counter.ICMP_ERRORS_STEERED));
  }

  @Test
  void shouldLeaveAnIcmpErrorToAnAddressWithoutServiceToTheOrigin() {
    serve(HOST_SERVER);
    int length = echo(slot, ip(198, 19, 0, 81), 64);
    assertEquals(RedirectLookup.ORIGIN, lookup.steerIcmpError(slot, packet(length)));
    assertEquals(0, counters.get(Counter.ICMP_ERRORS_STEERED));
  }

  @Test
  void shouldNotLetASynFloodFromRandomSourcesEvictEstablishedFlows() {
    RedirectLookup small =
        new RedirectLookup(
            TestFrames.context(1500).flowCapacity(16).conclude(), counters, redirects);
    small.tick(1_000_000_000L);
    serve(HOST_SERVER, HS2);
    int established = 8;
    int[] pinned = new int[established];
    for (int i = 0; i < established; i++) {
      small.process(slot, packet(tcp(slot, ORIGIN, 20_000 + i, HTTP, TcpHeader.FLAG_SYN, 0)));
      pinned[i] = packet.target;
      small.process(slot, packet(tcp(slot, ORIGIN, 20_000 + i, HTTP, TcpHeader.FLAG_ACK, 0)));
    }
    java.util.Random random = new java.util.Random(23);
    int flood = 10_000;
    for (int i = 0; i < flood; i++) {
      tcp(slot, ORIGIN, random.nextInt(65_536), HTTP, TcpHeader.FLAG_SYN, 0);
      Ipv4Header.source(slot, ipOffset(), ip(198, 18, 100 + random.nextInt(50), 1 + i % 250));
      Ipv4Header.updateChecksum(slot, ipOffset());
      small.process(slot, packet(EthernetHeader.LENGTH + 40));
    }
    assertEquals(16, small.flows().size());
    assertEquals(0, counters.get(Counter.FLOWS_EVICTED));
    assertEquals(flood - (16 - established), counters.get(Counter.FLOWS_SYN_NOT_RECORDED));

    // The set changes: every established connection still finds its own host server.
    serve(HOST_SERVER, HS2, HS3);
    for (int i = 0; i < established; i++) {
      small.process(slot, packet(tcp(slot, ORIGIN, 20_000 + i, HTTP, TcpHeader.FLAG_ACK, 10)));
      assertEquals(pinned[i], packet.target, "established flow " + i);
    }
  }

  @Test
  void shouldRecordAFullTablesUnrecordedSynByItsFirstAckEvictingAsBefore() {
    RedirectLookup small =
        new RedirectLookup(
            TestFrames.context(1500).flowCapacity(2).conclude(), counters, redirects);
    small.tick(1_000_000_000L);
    serve(HOST_SERVER);
    for (int port = 1; port <= 3; port++) {
      small.process(slot, packet(tcp(slot, ORIGIN, port, HTTP, TcpHeader.FLAG_SYN, 0)));
    }
    assertEquals(1, counters.get(Counter.FLOWS_SYN_NOT_RECORDED));
    assertEquals(0, counters.get(Counter.FLOWS_EVICTED));
    small.process(slot, packet(tcp(slot, ORIGIN, 3, HTTP, TcpHeader.FLAG_ACK, 0)));
    assertEquals(HOST_SERVER, packet.target);
    assertEquals(1, counters.get(Counter.FLOWS_EVICTED));
    assertEquals(2, small.flows().size());
  }

  /** A UDP datagram from {@code source} to the origin, 8 bytes of payload. */
  private int udp(int source, int sourcePort, int port) {
    int length = ipv4(slot, CLIENT_IF_MAC, source, ORIGIN, Ipv4Header.PROTOCOL_UDP, 16, 64, 0);
    int udp = ipOffset() + Ipv4Header.MIN_LENGTH;
    slot.putShort(udp, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 2, (short) port, ByteOrder.BIG_ENDIAN);
    slot.putShort(udp + 4, (short) 16, ByteOrder.BIG_ENDIAN);
    return length;
  }

  @Test
  void shouldStopRecordingNewFlowsAboveTheBudgetYetSendThemWhereTheHashDoes() {
    RedirectLookup budgeted =
        new RedirectLookup(
            TestFrames.context(1500).newFlowRate(100).newFlowBurst(10).conclude(),
            counters,
            redirects);
    long now = 1_000_000_000L;
    budgeted.tick(now);
    serve(HOST_SERVER, HS2);
    int service = redirects.lookup(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP);
    for (int i = 0; i < 50; i++) {
      assertEquals(
          RedirectLookup.HOST_SERVER,
          budgeted.process(
              slot, packet(tcp(slot, ORIGIN, 1_000 + i, HTTP, TcpHeader.FLAG_SYN, 0))));
      assertEquals(redirects.select(service, flowHashOf(packet)), packet.target, "flow " + i);
    }
    assertEquals(10, budgeted.flows().size(), "a burst's worth");
    assertEquals(40, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));

    // 50 ms later: five more tokens (100/s), whatever is offered.
    budgeted.tick(now + 50_000_000L);
    for (int i = 50; i < 100; i++) {
      budgeted.process(slot, packet(tcp(slot, ORIGIN, 1_000 + i, HTTP, TcpHeader.FLAG_SYN, 0)));
    }
    assertEquals(15, budgeted.flows().size());
    assertEquals(85, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));

    // An unrecorded connection is recorded by a later packet once there is a token again.
    budgeted.tick(now + 10_000_000_000L);
    budgeted.process(slot, packet(tcp(slot, ORIGIN, 1_099, HTTP, TcpHeader.FLAG_ACK, 10)));
    assertEquals(16, budgeted.flows().size());
    assertEquals(0, counters.get(Counter.FLOWS_EVICTED));
  }

  @Test
  void shouldNotSpendTheBudgetOnSynsAFullTableRefuses() {
    RedirectLookup small =
        new RedirectLookup(
            TestFrames.context(1500).flowCapacity(4).newFlowRate(1).newFlowBurst(5).conclude(),
            counters,
            redirects);
    small.tick(1_000_000_000L);
    serve(HOST_SERVER);
    for (int port = 1; port <= 4; port++) {
      small.process(slot, packet(tcp(slot, ORIGIN, port, HTTP, TcpHeader.FLAG_SYN, 0)));
    }
    for (int port = 100; port < 1_100; port++) {
      small.process(slot, packet(tcp(slot, ORIGIN, port, HTTP, TcpHeader.FLAG_SYN, 0)));
    }
    assertEquals(1_000, counters.get(Counter.FLOWS_SYN_NOT_RECORDED));
    assertEquals(0, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));
    // The fifth token is still there for a connection whose handshake completed.
    small.process(slot, packet(tcp(slot, ORIGIN, 1_099, HTTP, TcpHeader.FLAG_ACK, 0)));
    assertEquals(1, counters.get(Counter.FLOWS_EVICTED));
    small.process(slot, packet(tcp(slot, ORIGIN, 1_098, HTTP, TcpHeader.FLAG_ACK, 0)));
    assertEquals(1, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));
    assertEquals(1, counters.get(Counter.FLOWS_EVICTED));
  }

  /**
   * A UDP flood from random sources against a small table while 16 established connections talk
   * every 100 ms; half way through, the host-server set grows. Returns how many connections lost
   * their host server: the flood evicted their flow, and the hash then sent them elsewhere.
   */
  private int establishedLostToAUdpFlood(int newFlowRate) {
    RedirectLookup small =
        new RedirectLookup(
            TestFrames.context(1500)
                .flowCapacity(24)
                .flowRecencyNanos(0)
                .newFlowRate(newFlowRate)
                .newFlowBurst(16)
                .conclude(),
            counters,
            redirects);
    long now = 1_000_000_000L;
    small.tick(now);
    serve(HOST_SERVER, HS2);
    int[] hostServers = {HOST_SERVER, HS2};
    redirects.put(ORIGIN, Ipv4Header.PROTOCOL_UDP, 53, hostServers, new int[] {1, 1}, 2);
    int established = 16;
    int[] pinned = new int[established];
    for (int i = 0; i < established; i++) {
      small.process(slot, packet(tcp(slot, ORIGIN, 20_000 + i, HTTP, TcpHeader.FLAG_SYN, 0)));
      pinned[i] = packet.target;
    }
    boolean[] lost = new boolean[established];
    java.util.Random random = new java.util.Random(3);
    // Ten seconds of flood, 1,000 datagrams a second.
    for (int ms = 1; ms <= 10_000; ms++) {
      small.tick(now + ms * 1_000_000L);
      if (ms == 5_000) {
        serve(HOST_SERVER, HS2, HS3);
      }
      small.process(
          slot,
          packet(udp(ip(198, 18, 100 + random.nextInt(50), 1 + random.nextInt(250)), ms, 53)));
      if (ms % 100 == 0) {
        for (int i = 0; i < established; i++) {
          small.process(slot, packet(tcp(slot, ORIGIN, 20_000 + i, HTTP, TcpHeader.FLAG_ACK, 100)));
          lost[i] |= packet.target != pinned[i];
        }
      }
    }
    int n = 0;
    for (boolean l : lost) {
      n += l ? 1 : 0;
    }
    return n;
  }

  @Test
  void shouldNotLetAUdpFloodEvictEstablishedFlowsFasterThanTheBudget() {
    assertEquals(0, establishedLostToAUdpFlood(5));
    // 8 free slots, then 5 tokens a second for 10 s: about 42 evictions, all of them flood flows.
    long evicted = counters.get(Counter.FLOWS_EVICTED);
    assertTrue(evicted > 0 && evicted <= 5 * 10 + 1 - 8, "evicted " + evicted);
    assertEquals(10_000 - 8 - evicted, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));
  }

  @Test
  void shouldLoseEstablishedFlowsToAUdpFloodWithoutABudget() {
    // The reference for the test above: without a budget the flood evicts every connection's flow
    // between two of its packets, and once the set has grown about a third of them are sent to
    // the new host server.
    assertTrue(establishedLostToAUdpFlood(0) > 0);
    assertEquals(0, counters.get(Counter.FLOWS_NOT_RECORDED_RATE));
  }

  /** The flow hash the lookup chose by, from the packet's 5-tuple. */
  private static int flowHashOf(PacketContext p) {
    return RedirectLookup.flowHash(
        p.source, p.destination, p.protocol, p.sourcePort, p.destinationPort);
  }
}
