package net.hydranet.harness.redirector;

import static net.hydranet.harness.fixture.SampleTopology.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.harness.fixture.CapturingTxPort.Sent;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The redirector's side of the second chance (hostserver/SECOND-CHANCE.md) through the whole
 * element chain of {@code config/replay-sample.yaml}: the tunnel with its hop list for host servers
 * configured so, the loop guard that forwards a host server's pass-on to the origin without
 * redirecting it again, and the walk that sends an IP-in-IP pass-back on to the flow's next
 * candidate.
 */
class SecondChanceRedirectorTest {
  private static final int SECOND_HOST_SERVER = Ipv4Header.parseAddress("198.18.3.3");

  private static final String SERVICE = "  - service: 198.18.2.10:80/tcp\n    hostServers:\n";
  private static final String NEIGHBOUR =
      "  - { address: 198.18.3.2, mac: \"02:00:00:00:03:02\" }\n";

  /**
   * config/replay-sample.yaml with {@code hostServerLines} in place of 198.18.2.10:80/tcp's one
   * host server, and {@code neighbourLines} after 198.18.3.2's neighbour entry.
   */
  static RedirectorConfig config(String hostServerLines, String neighbourLines) throws Exception {
    String sample =
        Files.readString(RedirectorUnderTest.repositoryRoot().resolve("config/replay-sample.yaml"));
    String text =
        sample
            .replace(
                SERVICE + "      - { address: 198.18.3.2, weight: 1 }\n", SERVICE + hostServerLines)
            .replace(NEIGHBOUR, NEIGHBOUR + neighbourLines);
    if (!text.contains(SERVICE + hostServerLines) || !text.contains(NEIGHBOUR + neighbourLines)) {
      throw new IllegalStateException("replay-sample.yaml changed: the test's edit no longer fits");
    }
    return ConfigLoader.parse("second-chance.yaml", text, null);
  }

  private static RedirectorUnderTest gueRedirector() throws Exception {
    return new RedirectorUnderTest(
        config(
            "      - { address: 198.18.3.2, weight: 1, encapsulation: gue }\n"
                + "      - { address: 198.18.3.3, weight: 0 }\n",
            ""));
  }

  private static byte[] ip(byte[] frame) {
    int offset = Frames.ipv4Offset(frame);
    return Arrays.copyOfRange(frame, offset, frame.length);
  }

  @Test
  void shouldTunnelToAGueHostServerWithTheOtherHostServersAndItselfAsHops() throws Exception {
    RedirectorUnderTest r = gueRedirector();
    byte[] ack =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(0x2222)
            .ttl(64)
            .dontFragment(true)
            .tcp(40000, HTTP)
            .flags(0x10)
            .payload(100)
            .build();
    byte[] innerAfter =
        ip(
            PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
                .ipv4(CLIENT, ORIGIN)
                .id(0x2222)
                .ttl(63)
                .dontFragment(true)
                .tcp(40000, HTTP)
                .flags(0x10)
                .payload(100)
                .build());
    List<Sent> out = r.receive(CLIENT0, ack);
    assertEquals(1, out.size());
    assertEquals(HS0, out.get(0).iface());
    byte[] outer = ip(out.get(0).frame());
    UnsafeBuffer b = new UnsafeBuffer(outer);
    assertEquals(Ipv4Header.PROTOCOL_UDP, Ipv4Header.protocol(b, 0));
    assertEquals(HS0_IP, Ipv4Header.source(b, 0));
    assertEquals(HOST_SERVER, Ipv4Header.destination(b, 0));
    assertTrue(Ipv4Header.dontFragment(b, 0));
    int inner = GueHeader.innerOffset(b, 20, outer.length - 20);
    assertEquals(20 + GueHeader.length(2), inner);
    assertEquals(0, GueHeader.nextHop(b, 20));
    assertEquals(SECOND_HOST_SERVER, GueHeader.hop(b, 20, 0)); // draining: may hold old flows
    assertEquals(HS0_IP, GueHeader.hop(b, 20, 1)); // last: back here, for the origin
    assertArrayEquals(innerAfter, Arrays.copyOfRange(outer, inner, outer.length));
    assertEquals(1, r.counter(Counter.GUE_ENCAPSULATED));
    assertEquals(1, r.counter(Counter.REDIRECTED));
  }

  @Test
  void shouldKeepIpipForHostServersNotConfiguredForTheTunnel() throws Exception {
    RedirectorUnderTest r = new RedirectorUnderTest();
    byte[] ack =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).ipv4(CLIENT, ORIGIN).tcp(1, HTTP).build();
    List<Sent> out = r.receive(CLIENT0, ack);
    assertEquals(
        Ipv4Header.PROTOCOL_IPIP, Ipv4Header.protocol(new UnsafeBuffer(ip(out.get(0).frame())), 0));
    assertEquals(0, r.counter(Counter.GUE_ENCAPSULATED));
  }

  /** A host server's pass-on to the origin: a used-up list ending at the redirector. */
  private static byte[] passOn(int from, int[] hops, int next, byte[] innerFrame) {
    byte[] inner = ip(innerFrame);
    UnsafeBuffer header = new UnsafeBuffer(new byte[GueHeader.length(hops.length)]);
    GueHeader.write(header, 0, 0xC123, inner.length, hops, hops.length);
    GueHeader.nextHop(header, 0, next);
    byte[] payload = new byte[header.capacity() + inner.length];
    header.getBytes(0, payload, 0, header.capacity());
    System.arraycopy(inner, 0, payload, header.capacity(), inner.length);
    return PacketBuilder.ethernet(HOST_SERVER_MAC, HS0_MAC)
        .ipv4(from, HS0_IP)
        .protocol(Ipv4Header.PROTOCOL_UDP)
        .ipPayload(payload)
        .build();
  }

  /** A host server's pass-on to the origin in IP-in-IP: no list, marked by its outer TTL. */
  private static byte[] ipipPassOn(int from, byte[] innerFrame) {
    return PacketBuilder.ethernet(HOST_SERVER_MAC, HS0_MAC)
        .ipv4(from, HS0_IP)
        .ttl(255)
        .protocol(Ipv4Header.PROTOCOL_IPIP)
        .ipPayload(ip(innerFrame))
        .build();
  }

  /** The connection's segment from the client, as it arrives with {@code ttl}. */
  private static byte[] clientSegment(int ttl) {
    return segment(CLIENT_MAC, CLIENT0_MAC, ttl);
  }

  /** The connection's segment as it leaves towards the origin with {@code ttl}. */
  private static byte[] toOrigin(int ttl) {
    return segment(CORE0_MAC, ORIGIN_MAC, ttl);
  }

  private static byte[] segment(long sourceMac, long destinationMac, int ttl) {
    return PacketBuilder.ethernet(sourceMac, destinationMac)
        .ipv4(CLIENT, ORIGIN)
        .id(0x3333)
        .ttl(ttl)
        .tcp(40001, HTTP)
        .flags(0x18)
        .payload(20)
        .build();
  }

  @Test
  void shouldForwardAPassOnToTheOriginAndNeverRedirectIt() throws Exception {
    RedirectorUnderTest r = gueRedirector();
    // A restarted redirector: the connection's segment follows the hash to the host server, pinned.
    assertEquals(HS0, r.receive(CLIENT0, clientSegment(64)).get(0).iface());
    assertEquals(1, r.counter(Counter.REDIRECTED));
    byte[] frame = passOn(HOST_SERVER, new int[] {HS0_IP}, 1, clientSegment(63));
    List<Sent> out = r.receive(HS0, frame);
    assertEquals(1, out.size());
    assertEquals(CORE0, out.get(0).iface());
    assertArrayEquals(toOrigin(62), out.get(0).frame());
    assertEquals(1, r.counter(Counter.TUNNELLED_TO_ORIGIN));
    assertEquals(1, r.counter(Counter.FORWARDED));
    assertEquals(1, r.counter(Counter.REDIRECTED));
    // The pin moved to the origin: the connection's next segment goes there directly.
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_ORIGIN));
    List<Sent> next = r.receive(CLIENT0, clientSegment(64));
    assertEquals(CORE0, next.get(0).iface());
    assertEquals(1, r.counter(Counter.REDIRECTED));
    assertEquals(2, r.counter(Counter.FORWARDED));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldForwardAnIpipPassOnToTheOriginAndNeverRedirectIt() throws Exception {
    RedirectorUnderTest r = new RedirectorUnderTest(); // IP-in-IP to its host server
    assertEquals(HS0, r.receive(CLIENT0, clientSegment(64)).get(0).iface());
    List<Sent> out = r.receive(HS0, ipipPassOn(HOST_SERVER, clientSegment(63)));
    assertEquals(1, out.size());
    assertEquals(CORE0, out.get(0).iface());
    assertArrayEquals(toOrigin(62), out.get(0).frame());
    assertEquals(1, r.counter(Counter.TUNNELLED_TO_ORIGIN));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_ORIGIN));
    assertEquals(0, r.counter(Counter.DELIVERED_LOCAL));
    assertEquals(CORE0, r.receive(CLIENT0, clientSegment(64)).get(0).iface());
    assertEquals(1, r.counter(Counter.REDIRECTED));
    assertEquals(2, r.counter(Counter.FORWARDED));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldRefuseAnIpipPassOnNoHostServerOfTheServiceCouldHaveSent() throws Exception {
    RedirectorUnderTest r = new RedirectorUnderTest();
    byte[] fragment = ipipPassOn(HOST_SERVER, clientSegment(63));
    int offset = Frames.ipv4Offset(fragment);
    UnsafeBuffer f = new UnsafeBuffer(fragment);
    Ipv4Header.flagsFragment(f, offset, Ipv4Header.FLAG_MF);
    Ipv4Header.updateChecksum(f, offset);
    byte[][] refused = {
      // a stranger's: the client itself tunnels to the redirector
      ipipPassOn(CLIENT, clientSegment(63)),
      // a tunnel in the tunnel
      ipipPassOn(HOST_SERVER, ipipPassOn(HOST_SERVER, clientSegment(63))),
      // its TTL spent
      ipipPassOn(HOST_SERVER, clientSegment(1)),
      // to a port no service has
      ipipPassOn(
          HOST_SERVER,
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).ipv4(CLIENT, ORIGIN).tcp(1, 22).build()),
      // a first fragment: never reassembled here
      fragment,
    };
    for (byte[] frame : refused) {
      assertEquals(List.of(), r.receive(HS0, frame));
    }
    assertEquals(refused.length, r.counter(Counter.DROP_TUNNEL_REFUSED));
    assertEquals(0, r.counter(Counter.TUNNELLED_TO_ORIGIN));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldRefuseWhatNoHostServerOfTheServiceCouldHaveSent() throws Exception {
    RedirectorUnderTest r = gueRedirector();
    byte[][] refused = {
      // a stranger's: the client itself tunnels to the redirector
      passOn(CLIENT, new int[] {HS0_IP}, 1, clientSegment(63)),
      // a list not used up: it is another host server's
      passOn(HOST_SERVER, new int[] {SECOND_HOST_SERVER, HS0_IP}, 1, clientSegment(63)),
      // a list that ends elsewhere
      passOn(HOST_SERVER, new int[] {CORE0_IP}, 1, clientSegment(63)),
      // a tunnel in the tunnel
      passOn(
          HOST_SERVER,
          new int[] {HS0_IP},
          1,
          passOn(HOST_SERVER, new int[] {HS0_IP}, 1, clientSegment(63))),
      // its TTL spent
      passOn(HOST_SERVER, new int[] {HS0_IP}, 1, clientSegment(1)),
      // to a port no service has
      passOn(
          HOST_SERVER,
          new int[] {HS0_IP},
          1,
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC).ipv4(CLIENT, ORIGIN).tcp(1, 22).build()),
    };
    for (byte[] frame : refused) {
      assertEquals(List.of(), r.receive(HS0, frame));
    }
    assertEquals(refused.length, r.counter(Counter.DROP_TUNNEL_REFUSED));
    assertEquals(0, r.counter(Counter.TUNNELLED_TO_ORIGIN));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  private static final int THIRD_HOST_SERVER = Ipv4Header.parseAddress("198.18.3.4");

  /**
   * Three host servers in IP-in-IP, the default: 198.18.3.2 the consistent hash's only choice, and
   * two draining that may hold old connections (the one at .4 configured for GUE: the walk is
   * IP-in-IP whatever the candidate takes).
   */
  private static RedirectorUnderTest walkRedirector() throws Exception {
    return new RedirectorUnderTest(
        config(
            "      - { address: 198.18.3.2, weight: 1 }\n"
                + "      - { address: 198.18.3.3, weight: 0 }\n"
                + "      - { address: 198.18.3.4, weight: 0, encapsulation: gue }\n",
            "  - { address: 198.18.3.3, mac: \"02:00:00:00:03:03\" }\n"
                + "  - { address: 198.18.3.4, mac: \"02:00:00:00:03:04\" }\n"));
  }

  /**
   * A {@link #walkRedirector} that has seen the connection's segment once: a restarted redirector,
   * so the segment followed the hash to the first candidate, 198.18.3.2, and is pinned there.
   */
  private static RedirectorUnderTest pinnedToTheFirstCandidate() throws Exception {
    RedirectorUnderTest r = walkRedirector();
    assertEquals(HOST_SERVER, nextSegmentGoesTo(r));
    return r;
  }

  /**
   * Host server {@code from} passes the connection's segment back: the walk's step it takes,
   * checked by {@link #walkedTo}.
   *
   * @return the candidate it went to
   */
  private static int passBack(RedirectorUnderTest r, int from) {
    return walkedTo(r.receive(HS0, ipipPassOn(from, clientSegment(63))), 62);
  }

  /**
   * The one frame {@code out} holds, checked as the walk's step: IP-in-IP from the redirector's
   * host-server side to a host server, outer TTL the redirector's, inner the client's segment with
   * {@code innerTtl}.
   *
   * @return the host server it went to
   */
  private static int walkedTo(List<Sent> out, int innerTtl) {
    assertEquals(1, out.size());
    assertEquals(HS0, out.get(0).iface());
    byte[] outer = ip(out.get(0).frame());
    UnsafeBuffer b = new UnsafeBuffer(outer);
    assertEquals(Ipv4Header.PROTOCOL_IPIP, Ipv4Header.protocol(b, 0));
    assertEquals(HS0_IP, Ipv4Header.source(b, 0));
    assertEquals(64, Ipv4Header.ttl(b, 0));
    assertEquals(outer.length, Ipv4Header.totalLength(b, 0));
    assertArrayEquals(
        ip(clientSegment(innerTtl)), Arrays.copyOfRange(outer, 20, outer.length), "inner");
    return Ipv4Header.destination(b, 0);
  }

  /** Where the connection's next client segment goes: a host server, or 0 for the origin. */
  private static int nextSegmentGoesTo(RedirectorUnderTest r) {
    List<Sent> out = r.receive(CLIENT0, clientSegment(64));
    assertEquals(1, out.size());
    if (out.get(0).iface() == CORE0) {
      return 0;
    }
    assertEquals(HS0, out.get(0).iface());
    return Ipv4Header.destination(new UnsafeBuffer(ip(out.get(0).frame())), 0);
  }

  @Test
  void shouldWalkAnIpipPassBackToTheNextCandidateAndFromTheLastToTheOrigin() throws Exception {
    RedirectorUnderTest r = pinnedToTheFirstCandidate();
    // The first candidate holds no socket: the second gets it, in IP-in-IP, and the pin moves.
    int second = passBack(r, HOST_SERVER);
    assertTrue(second == SECOND_HOST_SERVER || second == THIRD_HOST_SERVER, "a candidate");
    int third = second == SECOND_HOST_SERVER ? THIRD_HOST_SERVER : SECOND_HOST_SERVER;
    assertEquals(1, r.counter(Counter.PASSED_BACK_TO_NEXT_CANDIDATE));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE));
    assertEquals(second, nextSegmentGoesTo(r));
    // The second has none either: the third.
    assertEquals(third, passBack(r, second));
    assertEquals(2, r.counter(Counter.PASSED_BACK_TO_NEXT_CANDIDATE));
    assertEquals(2, r.counter(Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE));
    assertEquals(third, nextSegmentGoesTo(r));
    // The last candidate has none: the origin, and the pin with it.
    List<Sent> out = r.receive(HS0, ipipPassOn(third, clientSegment(63)));
    assertEquals(1, out.size());
    assertEquals(CORE0, out.get(0).iface());
    assertEquals(1, r.counter(Counter.TUNNELLED_TO_ORIGIN));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_ORIGIN));
    assertEquals(0, nextSegmentGoesTo(r));
    // The walk went in IP-in-IP (walkedTo); the client's segment pinned to .4 went in its GUE.
    assertEquals(1, r.counter(Counter.GUE_ENCAPSULATED));
    assertEquals(0, r.counter(Counter.DROP_TUNNEL_REFUSED));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldNeverMoveAPinBackwardsForALatePassBack() throws Exception {
    RedirectorUnderTest r = pinnedToTheFirstCandidate();
    int second = passBack(r, HOST_SERVER);
    // A second segment sent to the first candidate before the pin moved, passed back late: it
    // walks on as the first did, and the pin stays.
    assertEquals(second, passBack(r, HOST_SERVER));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE));
    assertEquals(second, nextSegmentGoesTo(r));
    int third = passBack(r, second);
    r.receive(HS0, ipipPassOn(third, clientSegment(63)));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_ORIGIN));
    assertEquals(0, nextSegmentGoesTo(r));
    // Pinned to the origin now: late pass-backs from the first and second candidates walk on, and
    // the pin stays at the origin.
    assertEquals(second, passBack(r, HOST_SERVER));
    assertEquals(third, passBack(r, second));
    assertEquals(0, nextSegmentGoesTo(r));
    assertEquals(2, r.counter(Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE));
    assertEquals(1, r.counter(Counter.FLOWS_REPINNED_TO_ORIGIN));
    assertEquals(5, r.counter(Counter.PASSED_BACK_TO_NEXT_CANDIDATE));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldWalkTheSameWayOnEveryRedirectorWithoutState() throws Exception {
    // Two redirectors that never saw the flow (another behind ECMP, or one restarted): the same
    // pass-back goes to the same candidate, byte for byte, and creates no pin.
    RedirectorUnderTest a = walkRedirector();
    RedirectorUnderTest b = walkRedirector();
    List<Sent> fromA = a.receive(HS0, ipipPassOn(HOST_SERVER, clientSegment(63)));
    List<Sent> fromB = b.receive(HS0, ipipPassOn(HOST_SERVER, clientSegment(63)));
    int second = walkedTo(fromA, 62);
    assertArrayEquals(fromA.get(0).frame(), fromB.get(0).frame());
    assertEquals(0, a.counter(Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE));
    assertEquals(HOST_SERVER, nextSegmentGoesTo(a));
    assertEquals(second, passBack(b, HOST_SERVER));
  }

  @Test
  void shouldRefuseAPassBackFromAHostServerOfNoServiceOfTheFlow() throws Exception {
    RedirectorUnderTest r = pinnedToTheFirstCandidate();
    int stranger = Ipv4Header.parseAddress("198.18.3.9");
    assertEquals(List.of(), r.receive(HS0, ipipPassOn(stranger, clientSegment(63))));
    assertEquals(1, r.counter(Counter.DROP_TUNNEL_REFUSED));
    assertEquals(0, r.counter(Counter.PASSED_BACK_TO_NEXT_CANDIDATE));
    assertEquals(HOST_SERVER, nextSegmentGoesTo(r));
    assertEquals(r.counter(Counter.RX_FRAMES), r.plane().counters().outcomes());
  }

  @Test
  void shouldNameAWrongEncapsulationInTheConfig() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> config("      - { address: 198.18.3.2, weight: 1, encapsulation: gre }\n", ""));
    assertTrue(
        e.getMessage().contains("redirects[0].hostServers[0].encapsulation: must be ipip or gue"),
        e.getMessage());
  }
}
