package net.hydranet.forwarding.element;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * What {@link DeadHostReleaseTest} and {@link DeadHostRelease6Test} share: one lookup of either
 * family over a table of a UDP service (DNS) and a TCP one (HTTP) of the origin, a clock it is
 * ticked by, and flows found by source port whose hash chose a given host server; and the tests
 * that read the same in both families (a UDP flow moved, a TCP connection counted lost). A subclass
 * builds the family's frames, asks its lookup and keeps the tests of its own.
 */
abstract class DeadHostReleaseFixture {
  static final int DNS = 53;
  static final int DEAD = TestFrames.HOST_SERVER;
  static final int ALIVE = TestFrames.ip(198, 18, 2, 6);
  static final long SECOND = 1_000_000_000L;

  final Counters counters = new Counters();
  final RedirectorTable redirects = new RedirectorTable(64, 4);
  final UnsafeBuffer slot = TestFrames.slot();
  final PacketContext packet = new PacketContext();
  long now = SECOND;

  /** The lookup's clock tick at {@code nanos}. */
  abstract void tick(long nanos);

  /**
   * The host server (0: the origin) the lookup chose for a UDP datagram from {@code sourcePort}.
   */
  abstract int decideUdp(int sourcePort);

  /** The host server (0: the origin) the lookup chose for a TCP segment with {@code flags}. */
  abstract int decideTcp(int sourcePort, int flags);

  /** The origin's service {@code protocol}/{@code port} on {@code hostServers}, weight 1 each. */
  abstract void serve(int protocol, int port, int[] hostServers, int[] weights);

  /** The lookup's flow table. */
  abstract FlowTable flows();

  /** The lookup's closing timeout of a TCP flow. */
  abstract long tcpClosingNanos();

  /** HOST_SERVERS_DECLARED_DEAD after one declaration seen by this family's lookup. */
  abstract long declarationsCountedHere();

  /** The control plane's failover from DEAD to ALIVE, in the order this family's test takes. */
  abstract void failOver();

  /** The flow-table entry of the client's connection from {@code sourcePort} to HTTP. */
  abstract int entryOfTcp(int sourcePort);

  @Test
  void shouldMoveAUdpFlowPinnedToADeadHostServerToTheOneLeftAndCountIt() {
    serveBoth(DEAD, ALIVE);
    int port = udpPortTo(DEAD, 20_000);
    advance(SECOND);

    failOver();
    advance(1_000_000);
    assertEquals(ALIVE, decideUdp(port), "the next datagram goes to the host server left");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP));
    assertEquals(declarationsCountedHere(), counters.get(Counter.HOST_SERVERS_DECLARED_DEAD));

    advance(1_000_000);
    assertEquals(ALIVE, decideUdp(port), "and stays there");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_UDP), "released once");
    assertEquals(0, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
  }

  @Test
  void shouldCountATcpConnectionPinnedToADeadHostServerLostAndMarkItClosing() {
    serveBoth(DEAD, ALIVE);
    int port = tcpPortTo(DEAD, 30_000);
    long created = counters.get(Counter.FLOWS_CREATED);
    advance(SECOND);

    failOver();
    advance(1_000_000);
    assertEquals(
        ALIVE,
        decideTcp(port, TcpHeader.FLAG_ACK),
        "the next segment goes where the table says, whose RST ends the connection");
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP));
    int entry = entryOfTcp(port);
    assertTrue(flows().closing(entry), "kept only for the closing timeout");
    assertEquals(now + tcpClosingNanos(), flows().deadline(entry));

    decideTcp(port, TcpHeader.FLAG_ACK); // a retransmission, same tick
    assertEquals(1, counters.get(Counter.FLOWS_RELEASED_DEAD_HOST_TCP), "one connection lost");

    // The client opens again on the same 5-tuple: a new flow, chosen afresh.
    advance(1_000_000);
    assertEquals(ALIVE, decideTcp(port, TcpHeader.FLAG_SYN));
    assertEquals(created + 1, counters.get(Counter.FLOWS_CREATED));
    assertFalse(flows().closing(entryOfTcp(port)));
  }

  void advance(long nanos) {
    now += nanos;
    tick(now);
  }

  void serve(int protocol, int port, int... hostServers) {
    int[] weights = new int[hostServers.length];
    Arrays.fill(weights, 1);
    serve(protocol, port, hostServers, weights);
  }

  /** DNS and HTTP on {@code hostServers} (IPv4's protocol numbers are IPv6's next headers). */
  void serveBoth(int... hostServers) {
    serve(Ipv4Header.PROTOCOL_UDP, DNS, hostServers);
    serve(Ipv4Header.PROTOCOL_TCP, TestFrames.HTTP, hostServers);
  }

  /** A source port whose UDP flow the hash gives to {@code hostServer}. */
  int udpPortTo(int hostServer, int from) {
    for (int port = from; port < from + 1000; port++) {
      if (decideUdp(port) == hostServer) {
        return port;
      }
    }
    throw new AssertionError("no UDP flow chose " + hostServer);
  }

  /** An established TCP connection (SYN, then ACK) the hash gives to {@code hostServer}. */
  int tcpPortTo(int hostServer, int from) {
    for (int port = from; port < from + 1000; port++) {
      if (decideTcp(port, TcpHeader.FLAG_SYN) == hostServer) {
        decideTcp(port, TcpHeader.FLAG_ACK);
        return port;
      }
    }
    throw new AssertionError("no TCP flow chose " + hostServer);
  }
}
