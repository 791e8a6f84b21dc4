package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Extension-header chains built byte by byte here (the kernel sends few of them): well-formed
 * chains reach their upper layer, and endless, misordered, truncated and oversized ones end with a
 * clear verdict.
 */
class Ipv6HeaderChainTest {
  private static final int HBH = Ipv6Header.NEXT_HEADER_HOP_BY_HOP;
  private static final int RH = Ipv6Header.NEXT_HEADER_ROUTING;
  private static final int FH = Ipv6Header.NEXT_HEADER_FRAGMENT;
  private static final int AH = Ipv6Header.NEXT_HEADER_AUTHENTICATION;
  private static final int DST = Ipv6Header.NEXT_HEADER_DESTINATION_OPTIONS;
  private static final int TCP = Ipv6Header.NEXT_HEADER_TCP;
  private static final int UDP = Ipv6Header.NEXT_HEADER_UDP;

  private static final int REPEATED = Ipv6HeaderChain.REPEATED;

  private final Ipv6HeaderChain chain = new Ipv6HeaderChain();

  /**
   * An IPv6 packet whose extension headers are {@code kinds} in order (each 8 bytes, a routing
   * header 24, an authentication header 16), then {@code upper} with 20 bytes of payload.
   */
  static byte[] packet(int upper, int... kinds) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < kinds.length; i++) {
      int next = i + 1 < kinds.length ? kinds[i + 1] : upper;
      int kind = kinds[i];
      int length = kind == RH ? 24 : kind == AH ? 16 : 8;
      byte[] h = new byte[length];
      h[0] = (byte) next;
      if (kind == AH) {
        h[1] = (byte) (length / 4 - 2);
      } else if (kind != FH) {
        h[1] = (byte) (length / 8 - 1);
      }
      if (kind == RH) {
        h[2] = 4; // segment routing, 0 segments left
      }
      if (kind == HBH || kind == DST) {
        h[2] = 1; // PadN over the rest
        h[3] = 4;
      }
      body.writeBytes(h);
    }
    body.writeBytes(new byte[20]);
    byte[] payload = body.toByteArray();
    byte[] packet = new byte[Ipv6Header.LENGTH + payload.length];
    UnsafeBuffer b = new UnsafeBuffer(packet);
    Ipv6Header.write(
        b,
        0,
        0,
        0,
        payload.length,
        kinds.length > 0 ? kinds[0] : upper,
        64,
        0x2001_0002_0000_0001L,
        0x10,
        0x2001_0002_0000_0002L,
        0x10);
    b.putBytes(Ipv6Header.LENGTH, payload);
    return packet;
  }

  static Stream<Arguments> chains() {
    return Stream.of(
        row("no extension headers", packet(TCP), Ipv6HeaderChain.OK, TCP, 0),
        row("hop-by-hop", packet(UDP, HBH), Ipv6HeaderChain.OK, UDP, 1),
        row("RFC 8200 §4.1 order", packet(TCP, HBH, DST, RH, FH, AH, DST), 0, TCP, 6),
        row("any order but HBH first is accepted", packet(TCP, FH, DST, RH), 0, TCP, 3),
        row("no next header", packet(Ipv6Header.NEXT_HEADER_NONE, DST), 0, 59, 1),
        row("ESP ends the walk", packet(Ipv6Header.NEXT_HEADER_ESP, HBH), 0, 50, 1),
        row("hop-by-hop second", packet(TCP, DST, HBH), Ipv6HeaderChain.MISORDERED, -1, -1),
        row("routing twice", packet(TCP, RH, RH), Ipv6HeaderChain.REPEATED, -1, -1),
        row("fragment twice", packet(TCP, FH, FH), Ipv6HeaderChain.REPEATED, -1, -1),
        row("destination options thrice", packet(TCP, DST, RH, DST, DST), REPEATED, -1, -1),
        row("endless: a header that names itself", endless(), Ipv6HeaderChain.REPEATED, -1, -1));
  }

  private static Arguments row(
      String description, byte[] packet, int verdict, int upper, int headers) {
    return Arguments.of(description, packet, verdict, upper, headers);
  }

  /** 64 destination-options headers, each naming the next: a chain that never reaches a layer. */
  private static byte[] endless() {
    int[] kinds = new int[64];
    java.util.Arrays.fill(kinds, DST);
    return packet(DST, kinds);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("chains")
  void shouldWalkChains(String description, byte[] packet, int verdict, int upper, int headers) {
    UnsafeBuffer b = new UnsafeBuffer(packet);
    assertEquals(
        Ipv6HeaderChain.verdictName(verdict),
        Ipv6HeaderChain.verdictName(chain.walk(b, 0, packet.length)),
        description);
    if (verdict == Ipv6HeaderChain.OK) {
      assertEquals(upper, chain.upperLayerProtocol());
      assertEquals(headers, chain.headerCount());
      assertEquals(20, chain.upperLayerLength());
      assertEquals(packet.length - 20, chain.upperLayerOffset());
    } else {
      // The pointer is the next-header field that names the header at fault.
      int named = packet[chain.problemPointer()] & 0xFF;
      assertTrue(named == HBH || named == RH || named == FH || named == DST, description);
    }
  }

  @Test
  void shouldPointAtTheNextHeaderFieldThatNamesTheBadHeader() {
    // DST at 40 names HBH: the pointer is DST's next-header field (RFC 4443 §3.4 code 1 style).
    byte[] p = packet(TCP, DST, HBH);
    assertEquals(Ipv6HeaderChain.MISORDERED, chain.walk(new UnsafeBuffer(p), 0, p.length));
    assertEquals(40, chain.problemPointer());
    assertEquals(HBH, p[40]);
  }

  @Test
  void shouldRejectBadVersionShortFramesAndLyingPayloadLengths() {
    byte[] p = packet(TCP);
    UnsafeBuffer b = new UnsafeBuffer(p);
    assertEquals(Ipv6HeaderChain.TRUNCATED, chain.walk(b, 0, 39));
    assertEquals(Ipv6HeaderChain.BAD_PAYLOAD_LENGTH, chain.walk(b, 0, p.length - 1));
    p[0] = 0x45;
    assertEquals(Ipv6HeaderChain.BAD_VERSION, chain.walk(b, 0, p.length));
    assertEquals(0, chain.problemPointer());
  }

  @Test
  void shouldUseThePayloadLengthNotTheFrameWhenEthernetPads() {
    byte[] p = packet(TCP, DST);
    byte[] padded = java.util.Arrays.copyOf(p, p.length + 10);
    UnsafeBuffer b = new UnsafeBuffer(padded);
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, 0, padded.length));
    assertEquals(p.length, chain.payloadEnd());
    assertEquals(20, chain.upperLayerLength());
  }

  @Test
  void shouldFindAHeaderRunningPastThePayloadTruncated() {
    byte[] p = packet(TCP, HBH, DST);
    p[48 + 1] = 10; // DST claims 88 bytes; the packet has 28 after it
    assertEquals(Ipv6HeaderChain.TRUNCATED, chain.walk(new UnsafeBuffer(p), 0, p.length));
    assertEquals(49, chain.problemPointer());
    // A payload too short for even the 8-byte minimum of an extension header.
    byte[] q = packet(TCP, DST);
    Ipv6Header.payloadLength(new UnsafeBuffer(q), 0, 4);
    assertEquals(Ipv6HeaderChain.TRUNCATED, chain.walk(new UnsafeBuffer(q), 0, q.length));
  }

  @Test
  void shouldRejectAJumbogram() {
    byte[] p = packet(TCP, HBH);
    Ipv6Header.payloadLength(new UnsafeBuffer(p), 0, 0);
    assertEquals(Ipv6HeaderChain.BAD_PAYLOAD_LENGTH, chain.walk(new UnsafeBuffer(p), 0, p.length));
  }

  @Test
  void shouldStopAtANonFirstFragmentWhateverItsDataLooksLike() {
    // Fragment data that happens to begin like a routing header must not be walked.
    byte[] p = packet(RH, FH, DST);
    UnsafeBuffer b = new UnsafeBuffer(p);
    int fh = Ipv6Header.LENGTH;
    p[fh] = (byte) DST;
    Ipv6FragmentHeader.write(b, fh, DST, 1448, true, 7);
    p[p.length - 20] = (byte) TCP; // the "routing header" in the data names TCP, 8 bytes long
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, 0, p.length));
    assertEquals(DST, chain.upperLayerProtocol());
    assertEquals(fh + 8, chain.upperLayerOffset());
    assertFalse(chain.hasUpperLayerHeader(b));
    assertEquals(1, chain.headerCount());
    // The same bytes as a first fragment are headers, walked to the end: FH, DST, RH, then TCP.
    Ipv6FragmentHeader.write(b, fh, DST, 0, true, 7);
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, 0, p.length));
    assertEquals(TCP, chain.upperLayerProtocol());
    assertEquals(3, chain.headerCount());
    assertTrue(chain.hasUpperLayerHeader(b));
    assertEquals(Ipv6Header.LENGTH, chain.fragmentHeaderOffset());
  }

  @Test
  void shouldRecordTheRoutingHeader() {
    byte[] p = packet(UDP, HBH, RH);
    assertEquals(Ipv6HeaderChain.OK, chain.walk(new UnsafeBuffer(p), 0, p.length));
    assertEquals(48, chain.routingHeaderOffset());
    assertEquals(Ipv6HeaderChain.NONE, chain.fragmentHeaderOffset());
  }

  @Test
  void shouldNeverThrowOnTruncatedOrMutatedChains() {
    Random random = new Random(0x1B76);
    List<byte[]> seeds =
        List.of(
            packet(TCP, HBH, DST, RH, FH, AH, DST),
            packet(Ipv6Header.NEXT_HEADER_ICMPV6, HBH),
            packet(Ipv6Header.NEXT_HEADER_ICMPV6, FH),
            endless());
    int exercised = 0;
    for (int round = 0; round < 20_000; round++) {
      byte[] seed = seeds.get(random.nextInt(seeds.size()));
      byte[] frame = new byte[EthernetHeader.LENGTH + seed.length];
      System.arraycopy(seed, 0, frame, EthernetHeader.LENGTH, seed.length);
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        // Mostly the header bytes, where lengths and next-header values live.
        int at = EthernetHeader.LENGTH + random.nextInt(Math.min(seed.length, 100));
        frame[at] = (byte) random.nextInt(256);
      }
      exercised += Ipv6WireProperties.exercise(frame, 1 + random.nextInt(frame.length));
    }
    assertTrue(exercised > 15_000);
  }

  @Test
  void shouldParseAndFormatAddressesCanonically() {
    long[] a = Ipv6Header.parseAddress("2001:2:0:1::10");
    assertEquals(0x2001_0002_0000_0001L, a[0]);
    assertEquals(0x10L, a[1]);
    assertEquals("2001:2:0:1::10", Ipv6Header.formatAddress(a[0], a[1]));
    assertEquals("::", Ipv6Header.formatAddress(0, 0));
    assertEquals("::1", Ipv6Header.formatAddress(0, 1));
    assertEquals("fe80::ff:fe00:201", fmt("FE80:0:0:0:0:ff:fe00:201"));
    assertEquals("2001:db8::1:0:0:1", fmt("2001:db8:0:0:1:0:0:1")); // RFC 5952 §4.2.3: first
    assertEquals("2001:db8:0:1:1:1:1:1", fmt("2001:db8::1:1:1:1:1")); // §4.2.2: never one group
    assertEquals("::ffff:c612:1", fmt("::ffff:198.18.0.1"));
    assertEquals("ff02::1:ff00:10", fmt("ff02::1:ff00:10"));
    for (String bad :
        new String[] {"", "1.2.3.4", "1::2::3", ":1::2", "1:2:3:4:5:6:7:8:9", "12345::", "1:2"}) {
      assertThrows(IllegalArgumentException.class, () -> Ipv6Header.parseAddress(bad), bad);
    }
  }

  private static String fmt(String text) {
    long[] a = Ipv6Header.parseAddress(text);
    return Ipv6Header.formatAddress(a[0], a[1]);
  }

  @Test
  void shouldClassifyAddresses() {
    long[] linkLocal = Ipv6Header.parseAddress("fe80::1");
    long[] febf = Ipv6Header.parseAddress("febf::1");
    long[] fec0 = Ipv6Header.parseAddress("fec0::1");
    assertTrue(Ipv6Header.isLinkLocal(linkLocal[0]));
    assertTrue(Ipv6Header.isLinkLocal(febf[0]));
    assertFalse(Ipv6Header.isLinkLocal(fec0[0]));
    assertTrue(Ipv6Header.isMulticast(Ipv6Header.parseAddress("ff02::16")[0]));
    assertFalse(Ipv6Header.isMulticast(Ipv6Header.parseAddress("2001:2::1")[0]));
    assertTrue(Ipv6Header.isUnspecified(0, 0));
    assertTrue(Ipv6Header.isLoopback(0, 1));
    long[] target = Ipv6Header.parseAddress("2001:2:0:2::abc:10");
    assertEquals(
        "ff02::1:ffbc:10",
        Ipv6Header.formatAddress(
            Ipv6Header.solicitedNodeHigh(), Ipv6Header.solicitedNodeLow(target[1])));
    assertEquals(
        0x3333_ffbc_0010L, Ipv6Header.multicastMac(Ipv6Header.solicitedNodeLow(target[1])));
  }
}
