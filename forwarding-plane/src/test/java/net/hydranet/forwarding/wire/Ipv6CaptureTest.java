package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * IPv6 flyweights against frames the Linux kernel made (ipv6/README.md says how): every frame
 * parses, every checksum verifies and recomputes to the kernel's value, and the router's own
 * messages — ICMPv6 errors, neighbour solicitations and advertisements — built by our builders are
 * byte for byte the kernel's.
 */
class Ipv6CaptureTest {
  private static final int ETH = EthernetHeader.LENGTH;
  private static final List<byte[]> CLIENT = CapturedFrames.read("ipv6/client.pcap");
  private static final List<byte[]> SERVER = CapturedFrames.read("ipv6/server.pcap");

  private static final long[] ROUTER_CLIENT_SIDE = Ipv6Header.parseAddress("2001:2:0:1::1");
  private static final long[] ROUTER_SERVER_SIDE = Ipv6Header.parseAddress("2001:2:0:2::1");
  private static final long[] ROUTER_LINK_LOCAL = Ipv6Header.parseAddress("fe80::ff:fe00:201");
  private static final long[] CLIENT_ADDRESS = Ipv6Header.parseAddress("2001:2:0:1::10");
  private static final long[] SERVER_ADDRESS = Ipv6Header.parseAddress("2001:2:0:2::10");
  private static final long ROUTER_MAC_CLIENT_SIDE = EthernetHeader.parseMac("02:00:00:00:01:01");
  private static final long ROUTER_MAC_SERVER_SIDE = EthernetHeader.parseMac("02:00:00:00:02:01");
  private static final long CLIENT_MAC = EthernetHeader.parseMac("02:00:00:00:01:10");
  private static final long SERVER_MAC = EthernetHeader.parseMac("02:00:00:00:02:10");

  private static final int NONE = 0;
  private static final int FIRST = 1;
  private static final int LATER = 2;

  private final Ipv6HeaderChain chain = new Ipv6HeaderChain();

  /** Every frame: its description as tcpdump prints it, upper layer, headers walked, fragment. */
  static Stream<Arguments> frames() {
    return Stream.of(
        row("client", 0, "MLDv2 report, hop-by-hop router alert", 58, 1, NONE),
        row("client", 1, "DAD neighbour solicitation with nonce", 58, 0, NONE),
        row("client", 8, "router solicitation", 58, 0, NONE),
        row("client", 11, "neighbour solicitation for 2001:2:0:1::1", 58, 0, NONE),
        row("client", 12, "neighbour advertisement R S O", 58, 0, NONE),
        row("client", 13, "echo request", 58, 0, NONE),
        row("client", 16, "time exceeded", 58, 0, NONE),
        row("client", 18, "packet too big", 58, 0, NONE),
        row("client", 20, "destination unreachable, no route", 58, 0, NONE),
        row("client", 21, "first fragment of an echo request", 58, 1, FIRST),
        row("client", 22, "middle fragment", 58, 1, LATER),
        row("client", 23, "last fragment", 58, 1, LATER),
        row("client", 27, "UDP to a closed port", 17, 0, NONE),
        row("client", 28, "port unreachable", 58, 0, NONE),
        row("client", 29, "TCP SYN", 6, 0, NONE),
        row("client", 36, "TCP segment of 1208 bytes", 6, 0, NONE),
        row("server", 6, "MLDv2 report from link-local", 58, 1, NONE),
        row("server", 11, "router's neighbour solicitation", 58, 0, NONE),
        row("server", 17, "forwarded TCP SYN", 6, 0, NONE));
  }

  private static Arguments row(
      String file, int index, String description, int upper, int headers, int fragment) {
    return Arguments.of(file, index, description, upper, headers, fragment);
  }

  private static byte[] frame(String file, int index) {
    return (file.equals("client") ? CLIENT : SERVER).get(index);
  }

  @ParameterizedTest(name = "{0}[{1}] {2}")
  @MethodSource("frames")
  void shouldWalkEveryCapturedFrame(
      String file, int index, String description, int upper, int headers, int fragment) {
    byte[] bytes = frame(file, index);
    UnsafeBuffer b = new UnsafeBuffer(bytes);
    assertEquals(EthernetHeader.TYPE_IPV6, EthernetHeader.type(b, 0));
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, bytes.length - ETH), description);
    assertEquals(upper, chain.upperLayerProtocol(), description);
    assertEquals(headers, chain.headerCount(), description);
    assertEquals(bytes.length, chain.payloadEnd());
    assertEquals(fragment != NONE, chain.isFragment());
    assertEquals(fragment != LATER, chain.hasUpperLayerHeader(b));
  }

  @Test
  void shouldVerifyAndRecomputeEveryUpperLayerChecksum() {
    int checked = 0;
    for (List<byte[]> capture : List.of(CLIENT, SERVER)) {
      for (byte[] bytes : capture) {
        UnsafeBuffer b = new UnsafeBuffer(bytes.clone());
        assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, bytes.length - ETH));
        if (!chain.hasUpperLayerHeader(b) || chain.isFragment()) {
          continue; // a fragment's checksum covers the reassembled datagram
        }
        int at = chain.upperLayerOffset();
        int length = chain.upperLayerLength();
        int protocol = chain.upperLayerProtocol();
        assertTrue(Ipv6Header.verifyUpperLayer(b, ETH, at, length, protocol));
        if (protocol == Ipv6Header.NEXT_HEADER_TCP) {
          Ipv6Header.updateTcpChecksum(b, ETH, at, length);
        } else if (protocol == Ipv6Header.NEXT_HEADER_UDP) {
          Ipv6Header.updateUdpChecksum(b, ETH, at, length);
        } else {
          assertEquals(Ipv6Header.NEXT_HEADER_ICMPV6, protocol);
          assertTrue(Icmpv6Header.verifyChecksum(b, ETH, at, length));
          Icmpv6Header.updateChecksum(b, ETH, at, length);
        }
        assertArrayEquals(bytes, b.byteArray());
        checked++;
      }
    }
    assertEquals(CLIENT.size() + SERVER.size() - 6, checked);
  }

  @Test
  void shouldBuildTheKernelsTimeExceeded() {
    assertErrorLikeKernel(CLIENT.get(16), CLIENT.get(15), ROUTER_CLIENT_SIDE, 3, 0, 0);
  }

  @Test
  void shouldBuildTheKernelsPacketTooBigQuotingUpTo1280Bytes() {
    byte[] error = CLIENT.get(18);
    assertEquals(ETH + Ipv6Header.MIN_MTU, error.length);
    assertErrorLikeKernel(error, CLIENT.get(17), ROUTER_CLIENT_SIDE, 2, 0, 1280);
    assertEquals(1280, Icmpv6Header.rest(new UnsafeBuffer(error), ETH + Ipv6Header.LENGTH));
  }

  @Test
  void shouldBuildTheKernelsNoRouteUnreachable() {
    assertErrorLikeKernel(CLIENT.get(20), CLIENT.get(19), ROUTER_CLIENT_SIDE, 1, 0, 0);
  }

  @Test
  void shouldBuildTheKernelsPortUnreachable() {
    assertErrorLikeKernel(SERVER.get(16), SERVER.get(13), SERVER_ADDRESS, 1, 4, 0);
  }

  private static void assertErrorLikeKernel(
      byte[] kernel, byte[] invoking, long[] source, int type, int code, int rest) {
    UnsafeBuffer kernelBuffer = new UnsafeBuffer(kernel);
    UnsafeBuffer in = new UnsafeBuffer(invoking);
    assertTrue(Icmpv6Header.mayReplyTo(in, ETH, type, code, false));
    int invokingLength = Ipv6Header.LENGTH + Ipv6Header.payloadLength(in, ETH);
    UnsafeBuffer out = new UnsafeBuffer(new byte[1600]);
    int length =
        Icmpv6Header.writeError(
            out,
            0,
            type,
            code,
            rest,
            64,
            Ipv6Header.flowLabel(kernelBuffer, ETH), // Linux labels its flows at random
            source[0],
            source[1],
            in,
            ETH,
            invokingLength);
    assertEquals(kernel.length - ETH, length);
    assertArrayEquals(
        Arrays.copyOfRange(kernel, ETH, kernel.length), Arrays.copyOf(out.byteArray(), length));
  }

  @Test
  void shouldBuildAnErrorInPlaceInTheInvokingPacketsHeadroom() {
    byte[] invoking = CLIENT.get(17);
    int headroom = Ipv6Header.LENGTH + Icmpv6Header.LENGTH;
    byte[] slot = new byte[headroom + invoking.length];
    System.arraycopy(invoking, ETH, slot, headroom, invoking.length - ETH);
    UnsafeBuffer b = new UnsafeBuffer(slot);
    int length =
        Icmpv6Header.writeError(
            b,
            0,
            2,
            0,
            1280,
            64,
            Ipv6Header.flowLabel(new UnsafeBuffer(CLIENT.get(18)), ETH),
            ROUTER_CLIENT_SIDE[0],
            ROUTER_CLIENT_SIDE[1],
            b,
            headroom,
            invoking.length - ETH);
    byte[] kernel = CLIENT.get(18);
    assertArrayEquals(Arrays.copyOfRange(kernel, ETH, kernel.length), Arrays.copyOf(slot, length));
  }

  @Test
  void shouldNotAnswerErrorsMulticastOrUnspecifiedSources() {
    UnsafeBuffer error = new UnsafeBuffer(CLIENT.get(16));
    assertEquals(Ipv6HeaderChain.OK, chain.walk(error, ETH, error.capacity() - ETH));
    assertTrue(Icmpv6Header.isErrorOrRedirect(error, chain));
    assertFalse(Icmpv6Header.mayReplyTo(error, ETH, 3, 0, true));
    UnsafeBuffer echo = new UnsafeBuffer(CLIENT.get(13));
    assertEquals(Ipv6HeaderChain.OK, chain.walk(echo, ETH, echo.capacity() - ETH));
    assertFalse(Icmpv6Header.isErrorOrRedirect(echo, chain));
    // MLD from :: to ff02::16: the source names no node.
    UnsafeBuffer mld = new UnsafeBuffer(CLIENT.get(0));
    assertFalse(Icmpv6Header.mayReplyTo(mld, ETH, 3, 0, false));
    // MLD from a link-local source to a group: only Packet Too Big and unrecognized option.
    UnsafeBuffer group = new UnsafeBuffer(CLIENT.get(7));
    assertFalse(Icmpv6Header.mayReplyTo(group, ETH, 3, 0, false));
    assertTrue(Icmpv6Header.mayReplyTo(group, ETH, 2, 0, false));
    assertTrue(Icmpv6Header.mayReplyTo(group, ETH, 4, 2, false));
    assertFalse(Icmpv6Header.mayReplyTo(group, ETH, 4, 0, false));
  }

  @Test
  void shouldBuildTheKernelsNeighbourSolicitations() {
    assertNeighbourSolicitationLikeKernel(
        SERVER.get(11), ROUTER_LINK_LOCAL, SERVER_ADDRESS, ROUTER_MAC_SERVER_SIDE);
    assertNeighbourSolicitationLikeKernel(
        CLIENT.get(11), CLIENT_ADDRESS, ROUTER_CLIENT_SIDE, CLIENT_MAC);
  }

  private static void assertNeighbourSolicitationLikeKernel(
      byte[] kernel, long[] source, long[] target, long mac) {
    UnsafeBuffer k = new UnsafeBuffer(kernel);
    assertEquals(
        Ipv6Header.multicastMac(Ipv6Header.solicitedNodeLow(target[1])),
        EthernetHeader.destination(k, 0));
    UnsafeBuffer out = new UnsafeBuffer(new byte[100]);
    int length =
        NeighbourDiscovery.writeNeighbourSolicitation(
            out,
            0,
            source[0],
            source[1],
            Ipv6Header.solicitedNodeHigh(),
            Ipv6Header.solicitedNodeLow(target[1]),
            target[0],
            target[1],
            mac);
    assertEquals(kernel.length - ETH, length);
    assertArrayEquals(
        Arrays.copyOfRange(kernel, ETH, kernel.length), Arrays.copyOf(out.byteArray(), length));
  }

  @Test
  void shouldBuildTheKernelsNeighbourAdvertisements() {
    int rso =
        NeighbourDiscovery.NA_FLAG_ROUTER
            | NeighbourDiscovery.NA_FLAG_SOLICITED
            | NeighbourDiscovery.NA_FLAG_OVERRIDE;
    assertNeighbourAdvertisementLikeKernel(
        CLIENT.get(12), ROUTER_CLIENT_SIDE, CLIENT_ADDRESS, rso, ROUTER_MAC_CLIENT_SIDE);
    assertNeighbourAdvertisementLikeKernel(
        SERVER.get(15), ROUTER_SERVER_SIDE, SERVER_ADDRESS, rso, ROUTER_MAC_SERVER_SIDE);
    assertNeighbourAdvertisementLikeKernel(
        SERVER.get(12),
        SERVER_ADDRESS,
        ROUTER_LINK_LOCAL,
        NeighbourDiscovery.NA_FLAG_SOLICITED | NeighbourDiscovery.NA_FLAG_OVERRIDE,
        SERVER_MAC);
  }

  private static void assertNeighbourAdvertisementLikeKernel(
      byte[] kernel, long[] source, long[] destination, int flags, long mac) {
    UnsafeBuffer out = new UnsafeBuffer(new byte[100]);
    int length =
        NeighbourDiscovery.writeNeighbourAdvertisement(
            out,
            0,
            source[0],
            source[1],
            destination[0],
            destination[1],
            source[0],
            source[1],
            flags,
            mac);
    assertEquals(kernel.length - ETH, length);
    assertArrayEquals(
        Arrays.copyOfRange(kernel, ETH, kernel.length), Arrays.copyOf(out.byteArray(), length));
  }

  @Test
  void shouldValidateAndReadEveryCapturedNeighbourDiscoveryMessage() {
    int seen = 0;
    for (List<byte[]> capture : List.of(CLIENT, SERVER)) {
      for (byte[] bytes : capture) {
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        chain.walk(b, ETH, bytes.length - ETH);
        if (chain.upperLayerProtocol() != Ipv6Header.NEXT_HEADER_ICMPV6
            || !NeighbourDiscovery.isNeighbourDiscovery(
                Icmpv6Header.type(b, chain.upperLayerOffset()))) {
          continue;
        }
        assertEquals(
            NeighbourDiscovery.VALID,
            NeighbourDiscovery.validate(
                b, ETH, chain.upperLayerOffset(), chain.upperLayerLength()));
        seen++;
      }
    }
    assertEquals(12, seen);
    // The router solicitation carries the client's MAC.
    UnsafeBuffer rs = new UnsafeBuffer(CLIENT.get(8));
    chain.walk(rs, ETH, rs.capacity() - ETH);
    assertEquals(
        CLIENT_MAC,
        NeighbourDiscovery.linkLayerAddress(
            rs,
            chain.upperLayerOffset(),
            chain.upperLayerLength(),
            NeighbourDiscovery.OPTION_SOURCE_LINK_LAYER));
    // The router's advertisement: target, flags and target MAC.
    UnsafeBuffer na = new UnsafeBuffer(CLIENT.get(12));
    chain.walk(na, ETH, na.capacity() - ETH);
    int icmp = chain.upperLayerOffset();
    assertEquals(ROUTER_CLIENT_SIDE[0], NeighbourDiscovery.targetHigh(na, icmp));
    assertEquals(ROUTER_CLIENT_SIDE[1], NeighbourDiscovery.targetLow(na, icmp));
    assertEquals(0xE0, NeighbourDiscovery.naFlags(na, icmp));
    assertEquals(
        ROUTER_MAC_CLIENT_SIDE,
        NeighbourDiscovery.linkLayerAddress(
            na, icmp, chain.upperLayerLength(), NeighbourDiscovery.OPTION_TARGET_LINK_LAYER));
    assertEquals(
        NeighbourDiscovery.NO_OPTION,
        NeighbourDiscovery.linkLayerAddress(
            na, icmp, chain.upperLayerLength(), NeighbourDiscovery.OPTION_SOURCE_LINK_LAYER));
  }

  @Test
  void shouldDecrementHopLimitToTheForwardedBytes() {
    // Each TCP segment seen on both links: the far one is the near one with a hop limit one lower.
    int[][] pairs = {{29, 17}, {32, 20}, {42, 30}};
    for (int[] pair : pairs) {
      byte[] near = CLIENT.get(pair[0]).clone();
      byte[] far = SERVER.get(pair[1]);
      UnsafeBuffer b = new UnsafeBuffer(near);
      Ipv6Header.decrementHopLimit(b, ETH);
      assertArrayEquals(
          Arrays.copyOfRange(far, ETH, far.length), Arrays.copyOfRange(near, ETH, near.length));
    }
    byte[] near = SERVER.get(18).clone();
    Ipv6Header.decrementHopLimit(new UnsafeBuffer(near), ETH);
    assertArrayEquals(
        Arrays.copyOfRange(CLIENT.get(30), ETH, CLIENT.get(30).length),
        Arrays.copyOfRange(near, ETH, near.length));
  }

  @Test
  void shouldReadTheFragmentHeadersOfAFragmentedPing() {
    int[] offsets = {0, 1448, 2896};
    boolean[] more = {true, true, false};
    for (int first : new int[] {21, 24}) {
      int identification = 0;
      for (int i = 0; i < 3; i++) {
        UnsafeBuffer b = new UnsafeBuffer(CLIENT.get(first + i));
        assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, b.capacity() - ETH));
        int fh = chain.fragmentHeaderOffset();
        assertEquals(ETH + Ipv6Header.LENGTH, fh);
        assertEquals(Ipv6Header.NEXT_HEADER_ICMPV6, Ipv6FragmentHeader.nextHeader(b, fh));
        assertEquals(offsets[i], Ipv6FragmentHeader.fragmentOffset(b, fh));
        assertEquals(more[i], Ipv6FragmentHeader.moreFragments(b, fh));
        assertFalse(Ipv6FragmentHeader.isAtomic(b, fh));
        if (i == 0) {
          identification = Ipv6FragmentHeader.identification(b, fh);
          assertEquals(
              first == 21 ? Icmpv6Header.TYPE_ECHO_REQUEST : Icmpv6Header.TYPE_ECHO_REPLY,
              Icmpv6Header.type(b, chain.upperLayerOffset()));
        } else {
          assertEquals(identification, Ipv6FragmentHeader.identification(b, fh));
        }
        // The written form of the same header is the captured one.
        UnsafeBuffer copy = new UnsafeBuffer(new byte[8]);
        Ipv6FragmentHeader.write(
            copy, 0, Ipv6Header.NEXT_HEADER_ICMPV6, offsets[i], more[i], identification);
        assertArrayEquals(
            Arrays.copyOfRange(b.byteArray(), fh, fh + 8), copy.byteArray(), "fragment " + i);
      }
    }
  }

  @Test
  void shouldNeverThrowOnAnyTruncationOfACapturedFrame() {
    int cuts =
        Stream.of(CLIENT, SERVER)
            .flatMap(List::stream)
            .mapToInt(
                bytes ->
                    IntStream.range(0, bytes.length)
                        .map(length -> Ipv6WireProperties.exercise(bytes, length))
                        .sum())
            .sum();
    assertTrue(cuts > 0);
  }
}
