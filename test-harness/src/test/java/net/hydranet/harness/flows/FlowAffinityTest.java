package net.hydranet.harness.flows;

import static net.hydranet.harness.fixture.SampleTopology.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.fixture.CapturingTxPort.Sent;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.packet.Ipv4Addr;
import net.hydranet.harness.packet.PacketBuilder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The flows issue, packet by packet through the redirector of {@code config/replay-sample.yaml}
 * driven without threads: table changes are applied between frames through the forwarding plane's
 * own API ({@code addRedirect}, {@code setWeight}), as the control plane would, and each frame's
 * fate is read from what left: out of core0 is the origin, out of hs0 is the tunnel to the host
 * server in the outer destination.
 */
class FlowAffinityTest {
  private static final int TCP = Ipv4Header.PROTOCOL_TCP;
  private static final int UDP = Ipv4Header.PROTOCOL_UDP;
  private static final int HS_B = Ipv4Addr.of("198.18.3.3");
  private static final int HS_C = Ipv4Addr.of("198.18.3.4");
  private static final int ORIGIN_SIDE = 0;

  private static RedirectorUnderTest redirector() {
    RedirectorUnderTest r = new RedirectorUnderTest();
    r.plane().addNeighbour(HS_B, 0x0200_0000_0303L, HS0);
    r.plane().addNeighbour(HS_C, 0x0200_0000_0304L, HS0);
    return r;
  }

  private static PacketBuilder client() {
    return PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC);
  }

  private static byte[] syn(int sourcePort, int port) {
    return client().ipv4(CLIENT, ORIGIN).tcp(sourcePort, port).flags(TcpHeader.FLAG_SYN).build();
  }

  private static byte[] data(int sourcePort, int port, int i) {
    return client().ipv4(CLIENT, ORIGIN).id(i).tcp(sourcePort, port).seq(i).payload(50).build();
  }

  /** Where the one frame sent went: {@link #ORIGIN_SIDE} or the host server tunnelled to. */
  private static int where(List<Sent> out) {
    assertEquals(1, out.size(), "one frame out");
    Sent s = out.get(0);
    if (s.iface() == CORE0) {
      return ORIGIN_SIDE;
    }
    assertEquals(HS0, s.iface());
    UnsafeBuffer b = new UnsafeBuffer(s.frame());
    int ip = Frames.ipv4Offset(s.frame());
    assertEquals(Ipv4Header.PROTOCOL_IPIP, Ipv4Header.protocol(b, ip));
    return Ipv4Header.destination(b, ip);
  }

  private static void assertAccounting(RedirectorUnderTest r) {
    assertEquals(
        r.counter(Counter.RX_FRAMES),
        r.plane().counters().outcomes() + r.plane().path().fragments().held(),
        "each frame one outcome, or held");
  }

  @Test
  void shouldKeepAConnectionToTheOriginWhenAReplicaIsAddedMidStream() {
    RedirectorUnderTest r = redirector();
    int port = 8080; // the origin's address has services (80, 53), this port none yet
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, syn(41000, port))));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, data(41000, port, 1))));

    r.plane().addRedirect(ORIGIN, TCP, port, new int[] {HOST_SERVER}, new int[] {1});
    for (int i = 2; i < 20; i++) {
      assertEquals(
          ORIGIN_SIDE, where(r.receive(CLIENT0, data(41000, port, i))), "packet " + i + " moved");
    }
    // A connection begun after the replica came goes to it.
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, syn(41001, port))));
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, data(41001, port, 1))));
    // FIN ends the old flow; a new SYN on the same 5-tuple is a new flow, now the replica's.
    byte[] fin =
        client().ipv4(CLIENT, ORIGIN).tcp(41000, port).flags(TcpHeader.FLAG_FIN | 0x10).build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, fin)));
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, syn(41000, port))));
    assertTrue(r.counter(Counter.FLOWS_CREATED) >= 3);
    assertAccounting(r);
  }

  @Test
  void shouldKeepAConnectionOpenedBeforeItsAddressHadAnyServiceOnTheOrigin() {
    RedirectorUnderTest r = redirector();
    int far = Ipv4Addr.of("198.19.7.7"); // routed via core0's upstream; no service at all
    byte[] syn = client().ipv4(CLIENT, far).tcp(42000, 443).flags(TcpHeader.FLAG_SYN).build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, syn)));
    r.plane().addRedirect(far, TCP, 443, new int[] {HOST_SERVER}, new int[] {1});
    for (int i = 1; i < 10; i++) {
      byte[] data = client().ipv4(CLIENT, far).id(i).tcp(42000, 443).seq(i).payload(20).build();
      assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, data)), "packet " + i + " moved");
    }
    byte[] fresh = client().ipv4(CLIENT, far).tcp(42001, 443).flags(TcpHeader.FLAG_SYN).build();
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, fresh)), "a new connection is redirected");
    assertAccounting(r);
  }

  /**
   * Found by paper-fig5: connections to an address with no service are pinned to the origin at
   * their SYN; their FIN must end that pin, or a client reusing the source port after a replica
   * appeared (Linux reuses them within seconds for the same destination) is sent to the origin.
   */
  @Test
  void shouldLetANewConnectionOnAReusedSourcePortGoToAReplicaInstalledSince() {
    RedirectorUnderTest r = redirector();
    int far = Ipv4Addr.of("198.19.7.8");
    byte[] syn = client().ipv4(CLIENT, far).tcp(43000, 80).flags(TcpHeader.FLAG_SYN).build();
    byte[] fin = client().ipv4(CLIENT, far).tcp(43000, 80).flags(TcpHeader.FLAG_FIN | 0x10).build();
    byte[] rst = client().ipv4(CLIENT, far).tcp(43001, 80).flags(TcpHeader.FLAG_RST).build();
    byte[] syn2 = client().ipv4(CLIENT, far).tcp(43001, 80).flags(TcpHeader.FLAG_SYN).build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, syn)));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, fin)));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, syn2)));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, rst)));
    r.plane().addRedirect(far, TCP, 80, new int[] {HOST_SERVER}, new int[] {1});
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, syn)), "after FIN, a new flow");
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, syn2)), "after RST, a new flow");
    // A SYN again on an ended origin pin before any replica: pinned afresh, and kept open.
    int other = Ipv4Addr.of("198.19.7.9");
    byte[] a = client().ipv4(CLIENT, other).tcp(43002, 80).flags(TcpHeader.FLAG_SYN).build();
    byte[] aFin =
        client().ipv4(CLIENT, other).tcp(43002, 80).flags(TcpHeader.FLAG_FIN | 0x10).build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, a)));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, aFin)));
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, a)));
    r.plane().addRedirect(other, TCP, 80, new int[] {HOST_SERVER}, new int[] {1});
    byte[] aData = client().ipv4(CLIENT, other).id(5).tcp(43002, 80).seq(5).payload(20).build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, aData)), "the reopened connection stays");
    assertAccounting(r);
  }

  @Test
  void shouldKeepOldFlowsOnADrainingHostServerAndMoveNewOnes() {
    RedirectorUnderTest r = redirector();
    r.plane().addRedirect(ORIGIN, TCP, HTTP, new int[] {HOST_SERVER, HS_B}, new int[] {1, 1});
    int flows = 200;
    int[] first = new int[flows];
    for (int f = 0; f < flows; f++) {
      first[f] = where(r.receive(CLIENT0, syn(20000 + f, HTTP)));
    }
    long onA = Arrays.stream(first).filter(t -> t == HOST_SERVER).count();
    assertTrue(onA > 50 && onA < 150, "both host servers serve: " + onA + " of " + flows);

    r.plane().setWeight(ORIGIN, TCP, HTTP, HOST_SERVER, 0);
    for (int f = 0; f < flows; f++) {
      assertEquals(first[f], where(r.receive(CLIENT0, data(20000 + f, HTTP, 1))), "flow " + f);
    }
    for (int f = 0; f < flows; f++) {
      assertEquals(HS_B, where(r.receive(CLIENT0, syn(30000 + f, HTTP))), "new flow " + f);
    }
    assertAccounting(r);
  }

  @Test
  void shouldSendMidFlowPacketsToTheSameHostServerAfterARestart() {
    int[] hosts = {HOST_SERVER, HS_B, HS_C};
    int[] weights = {1, 2, 1};
    RedirectorUnderTest before = redirector();
    before.plane().addRedirect(ORIGIN, TCP, HTTP, hosts, weights);
    int flows = 300;
    int[] chosen = new int[flows];
    Set<Integer> used = new HashSet<>();
    for (int f = 0; f < flows; f++) {
      chosen[f] = where(before.receive(CLIENT0, syn(10000 + f, HTTP)));
      used.add(chosen[f]);
    }
    assertEquals(3, used.size(), "every host server chosen by some flow");

    // A new plane with the same table (host servers listed in another order): no flow state.
    RedirectorUnderTest after = redirector();
    after
        .plane()
        .addRedirect(ORIGIN, TCP, HTTP, new int[] {HS_C, HS_B, HOST_SERVER}, new int[] {1, 2, 1});
    for (int f = 0; f < flows; f++) {
      assertEquals(chosen[f], where(after.receive(CLIENT0, data(10000 + f, HTTP, 7))), "flow " + f);
    }
    assertEquals(flows, after.plane().path().flows().size(), "unknown flows pinned as they come");
  }

  @Test
  void shouldKeepUdpAffinityUntilIdle() {
    RedirectorUnderTest r = redirector();
    r.plane().addRedirect(ORIGIN, UDP, DNS, new int[] {HOST_SERVER}, new int[] {1});
    byte[] query = client().ipv4(CLIENT, ORIGIN).udp(5353, DNS).payload(30).build();
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, query)));
    r.plane()
        .addRedirect(ORIGIN, UDP, DNS, new int[] {HOST_SERVER, HS_B, HS_C}, new int[] {0, 1, 1});
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, query)), "draining keeps the UDP flow");
    r.advance(r.plane().context().udpIdleNanos() + 1);
    assertNotEquals(HOST_SERVER, where(r.receive(CLIENT0, query)), "idle flow chosen afresh");
    assertEquals(1, r.counter(Counter.FLOWS_EXPIRED));
  }

  /** The UDP datagram to port 53 as three fragments of its IP payload. */
  private static byte[][] fragments(int id, int sourcePort) {
    byte[] whole = client().ipv4(CLIENT, ORIGIN).udp(sourcePort, DNS).payload(2000).build();
    byte[] payload = Arrays.copyOfRange(whole, 14 + 20, whole.length);
    int[] cuts = {0, 800, 1600, payload.length};
    byte[][] out = new byte[3][];
    for (int i = 0; i < 3; i++) {
      out[i] =
          client()
              .ipv4(CLIENT, ORIGIN)
              .id(id)
              .moreFragments(i < 2)
              .fragmentOffset(cuts[i])
              .protocol(UDP)
              .ipPayload(Arrays.copyOfRange(payload, cuts[i], cuts[i + 1]))
              .build();
    }
    return out;
  }

  @Test
  void shouldTunnelEveryFragmentOfARedirectedDatagramToOneHostServerInOrderAndLastFirst() {
    RedirectorUnderTest r = redirector();
    r.plane()
        .addRedirect(ORIGIN, UDP, DNS, new int[] {HOST_SERVER, HS_B, HS_C}, new int[] {1, 1, 1});
    Set<Integer> targets = new HashSet<>();
    for (int d = 0; d < 30; d++) {
      byte[][] f = fragments(1000 + d, 6000 + d);
      int target = where(r.receive(CLIENT0, f[0]));
      assertNotEquals(ORIGIN_SIDE, target);
      targets.add(target);
      assertEquals(target, where(r.receive(CLIENT0, f[1])));
      assertEquals(target, where(r.receive(CLIENT0, f[2])));
    }
    assertTrue(targets.size() > 1, "datagrams spread over host servers: " + targets);

    for (int d = 0; d < 30; d++) {
      byte[][] f = fragments(2000 + d, 7000 + d);
      assertEquals(List.of(), r.receive(CLIENT0, f[2]), "last fragment held");
      assertEquals(List.of(), r.receive(CLIENT0, f[1]), "middle fragment held");
      List<Sent> out = r.receive(CLIENT0, f[0]);
      assertEquals(3, out.size(), "first fragment releases the held ones behind it");
      int target = where(out.subList(0, 1));
      assertEquals(target, where(out.subList(1, 2)));
      assertEquals(target, where(out.subList(2, 3)));
    }
    assertEquals(60, r.counter(Counter.FRAGMENTS_HELD));
    assertEquals(120, r.counter(Counter.FRAGMENTS_MATCHED));
    assertEquals(0, r.plane().path().fragments().held());
    assertEquals(r.counter(Counter.RX_FRAMES), r.counter(Counter.REDIRECTED));
    assertAccounting(r);
  }

  @Test
  void shouldDropAHeldFragmentWhoseFirstNeverComes() {
    RedirectorUnderTest r = redirector();
    byte[][] f = fragments(3000, 8000);
    assertEquals(List.of(), r.receive(CLIENT0, f[2]));
    assertEquals(1, r.plane().path().fragments().held());
    r.advance(r.plane().context().fragmentTimeoutNanos() + 1);
    byte[] good = data(9, HTTP, 1);
    assertEquals(HOST_SERVER, where(r.receive(CLIENT0, good)));
    // The timeout is noticed at the next fragment.
    r.receive(CLIENT0, fragments(3001, 8001)[0]);
    assertEquals(1, r.counter(Counter.FRAGMENTS_TIMED_OUT));
    assertEquals(1, r.counter(Counter.DROP_FRAGMENT_UNMATCHED));
    assertAccounting(r);
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldSteerAnIcmpFragNeededQuotingARedirectedFlowToItsHostServer() {
    RedirectorUnderTest r = redirector();
    r.plane()
        .addRedirect(ORIGIN, TCP, HTTP, new int[] {HOST_SERVER, HS_B, HS_C}, new int[] {1, 1, 1});
    Set<Integer> seen = new HashSet<>();
    for (int f = 0; f < 12; f++) {
      int clientPort = 50000 + f;
      int target = where(r.receive(CLIENT0, syn(clientPort, HTTP)));
      seen.add(target);
      // The host server answers as the origin; a router towards the client finds it too big.
      byte[] reply =
          PacketBuilder.ethernet(HOST_SERVER_MAC, HS0_MAC)
              .ipv4(ORIGIN, CLIENT)
              .dontFragment(true)
              .tcp(HTTP, clientPort)
              .payload(1460)
              .build();
      byte[] quote = Arrays.copyOfRange(reply, 14, 14 + 28);
      byte[] fragNeeded =
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
              .ipv4(Ipv4Addr.of("198.18.1.254"), ORIGIN)
              .icmpError(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4, 1400, quote)
              .build();
      assertEquals(target, where(r.receive(CLIENT0, fragNeeded)), "flow " + f);
    }
    assertTrue(seen.size() > 1, "flows on several host servers: " + seen);
    assertEquals(12, r.counter(Counter.ICMP_ERRORS_STEERED));

    // An error about a flow no service has still goes to the origin.
    byte[] other =
        PacketBuilder.ethernet(ORIGIN_MAC, CORE0_MAC).ipv4(ORIGIN, CLIENT).tcp(22, 40000).build();
    byte[] unrelated =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(Ipv4Addr.of("198.18.1.254"), ORIGIN)
            .icmpError(
                IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4, 1400, Arrays.copyOfRange(other, 14, 42))
            .build();
    assertEquals(ORIGIN_SIDE, where(r.receive(CLIENT0, unrelated)));
    assertAccounting(r);
  }

  @Test
  void shouldBoundMemoryUnderAFloodOfOverlappingTinyFragmentsWithOneId() {
    RedirectorUnderTest r = redirector();
    long memory = r.plane().path().fragments().memoryBytes();
    int good = 0;
    for (int i = 0; i < 5_000; i++) {
      byte[] tiny =
          client()
              .ipv4(CLIENT, ORIGIN)
              .id(0x6666)
              .moreFragments(true)
              .fragmentOffset(8 + 8 * (i % 4))
              .protocol(UDP)
              .ipPayload(new byte[16])
              .build();
      r.receive(CLIENT0, tiny);
      if (i % 50 == 0) {
        assertEquals(HOST_SERVER, where(r.receive(CLIENT0, data(33000 + i, HTTP, i))));
        good++;
      }
    }
    assertTrue(r.plane().path().fragments().held() <= 16, "held per datagram bounded");
    assertEquals(1, r.plane().path().fragments().inUse(), "one id, one context");
    assertEquals(memory, r.plane().path().fragments().memoryBytes());
    assertTrue(r.counter(Counter.FRAGMENTS_DROPPED) >= 4_980, "overlaps dropped");
    assertEquals(good, r.counter(Counter.REDIRECTED));

    // A good fragmented datagram still goes through whole, beside the flood's context.
    byte[][] f = fragments(4000, 8100);
    int target = where(r.receive(CLIENT0, f[0]));
    assertEquals(target, where(r.receive(CLIENT0, f[1])));
    assertEquals(target, where(r.receive(CLIENT0, f[2])));
    assertAccounting(r);
    System.out.printf(
        "hostile fragments: 5000 offered, %d dropped, %d held, tracker memory %d bytes (fixed)%n",
        r.counter(Counter.FRAGMENTS_DROPPED), r.plane().path().fragments().held(), memory);
  }
}
