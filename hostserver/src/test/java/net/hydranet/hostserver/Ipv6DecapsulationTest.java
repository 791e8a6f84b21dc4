package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host server's IPv6 decapsulation ({@link Ipv6Decapsulator} behind {@link HostServerPath}),
 * table-driven over byte-exact frames: IPv6-in-IPv4 (protocol 41) and IPv6-in-IPv6 to this host
 * server, the inner packet written to the local stack byte for byte, and every malformation a
 * counted drop after which the next good frame still goes in.
 *
 * <p>The fixtures (made with Python's struct and ipaddress, checksums included): a client
 * 2001:2:0:1::1 port 40000 sends a TCP SYN to the origin [2001:2::10]:80, hop limit 63 (the
 * redirector decremented it); the redirector 198.18.1.1 / 2001:2:0:3::1 tunnels it to this host
 * server 198.18.3.2 / 2001:2:0:3::2.
 */
class Ipv6DecapsulationTest {
  static final String ETHERNET_IPV4 = "020000000002" + "020000000001" + "0800";
  static final String ETHERNET_IPV6 = "020000000002" + "020000000001" + "86dd";

  /** The client's SYN: IPv6 (40) + TCP (20), TCP checksum over the pseudo-header. */
  static final String INNER =
      "600000000014063f"
          + "20010002000000010000000000000001"
          + "20010002000000000000000000000010"
          + "9c40005000000001000000005002faf0d8480000";

  /** Outer IPv4: 198.18.1.1 → 198.18.3.2, protocol 41, DF, id 0x1234, TTL 64, total 80. */
  static final String OUTER4 = "450000501234400040299829c6120101c6120302";

  /** Outer IPv6: 2001:2:0:3::1 → 2001:2:0:3::2, next header 41, hop limit 64, payload 60. */
  static final String OUTER6 =
      "60000000003c2940" + "20010002000000030000000000000001" + "20010002000000030000000000000002";

  static final int ADDRESS = Ipv4Header.parseAddress("198.18.3.2");
  static final long[] ADDRESS6 = Ipv6Header.parseAddress("2001:2:0:3::2");
  static final long[] ORIGIN6 = Ipv6Header.parseAddress("2001:2::10");

  private final Counters counters = new Counters(HostServerCounter.count());
  private final VirtualHostTable table = new VirtualHostTable();
  private final List<byte[]> injected = new ArrayList<>();
  private boolean sinkWorks = true;
  private final HostServerPath path =
      new HostServerPath(
          ADDRESS,
          ADDRESS6,
          counters,
          table,
          (buffer, offset, length) -> {
            if (!sinkWorks) {
              return false;
            }
            byte[] p = new byte[length];
            buffer.getBytes(offset, p);
            injected.add(p);
            return true;
          },
          4,
          5_000_000_000L);
  private final UnsafeBuffer slot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16_384, 64));

  Ipv6DecapsulationTest() {
    table.addVirtualHost6(ORIGIN6[0], ORIGIN6[1]);
  }

  static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }

  static byte[] sixInFour() {
    return hex(ETHERNET_IPV4 + OUTER4 + INNER);
  }

  static byte[] sixInSix() {
    return hex(ETHERNET_IPV6 + OUTER6 + INNER);
  }

  private void send(byte[] frame) {
    slot.putBytes(64, frame);
    path.process(slot, 64, frame.length, 0);
  }

  private long get(HostServerCounter c) {
    return counters.get(c.id());
  }

  /** Every frame ends in exactly one outcome (the identity replay and the fuzz target check). */
  private void assertOutcomesAddUp() {
    long outcomes =
        get(HostServerCounter.NOT_TUNNELLED)
            + get(HostServerCounter.OUTER_FRAGMENTS_HELD)
            + get(HostServerCounter.DECAPSULATED)
            + get(HostServerCounter.DROP_BAD_OUTER)
            + get(HostServerCounter.DROP_OUTER_FRAGMENT)
            + get(HostServerCounter.DROP_BAD_INNER);
    assertEquals(get(HostServerCounter.RX_FRAMES), outcomes, "rx_frames = the outcomes");
    assertEquals(
        get(HostServerCounter.DECAPSULATED),
        get(HostServerCounter.INJECTED)
            + get(HostServerCounter.DROP_NO_VIRTUAL_HOST)
            + get(HostServerCounter.DROP_INJECT_FAILED),
        "decapsulated = injected + no virtual host + inject failed");
  }

  @Test
  void shouldInjectTheInnerPacketOfIpv6InIpv4ByteForByte() {
    send(sixInFour());
    assertEquals(1, injected.size());
    assertArrayEquals(hex(INNER), injected.get(0));
    assertEquals(1, get(HostServerCounter.IPV6_IN_IPV4));
    assertEquals(1, get(HostServerCounter.INJECTED_IPV6));
    assertEquals(60, get(HostServerCounter.INJECTED_BYTES));
    assertOutcomesAddUp();
  }

  @Test
  void shouldInjectTheInnerPacketOfIpv6InIpv6ByteForByte() {
    // Ethernet pads nothing here, but a capture may carry trailing bytes: they are not written.
    send(hex(ETHERNET_IPV6 + OUTER6 + INNER + "00000000"));
    assertEquals(1, injected.size());
    assertArrayEquals(hex(INNER), injected.get(0));
    assertEquals(1, get(HostServerCounter.IPV6_IN_IPV6));
    assertEquals(1, get(HostServerCounter.INJECTED_IPV6));
    assertOutcomesAddUp();
  }

  @Test
  void shouldReassembleOuterIpv4FragmentsOfIpv6AsOfIpv4() {
    byte[] whole = hex(OUTER4 + INNER);
    // Two fragments: the first 32 payload bytes (offset 0, MF), then the other 28 (offset 4).
    byte[] first = fragment(whole, 0, 32, true);
    byte[] second = fragment(whole, 32, 28, false);
    send(second);
    assertEquals(1, get(HostServerCounter.OUTER_FRAGMENTS_HELD));
    send(first);
    assertEquals(1, get(HostServerCounter.OUTER_REASSEMBLED));
    assertEquals(1, injected.size());
    assertArrayEquals(hex(INNER), injected.get(0));
    assertOutcomesAddUp();
  }

  /** One outer fragment of {@code whole} (IPv4 header + payload): its header rewritten. */
  private static byte[] fragment(byte[] whole, int from, int length, boolean more) {
    byte[] f = new byte[14 + 20 + length];
    System.arraycopy(hex(ETHERNET_IPV4), 0, f, 0, 14);
    System.arraycopy(whole, 0, f, 14, 20);
    System.arraycopy(whole, 20 + from, f, 34, length);
    UnsafeBuffer b = new UnsafeBuffer(f);
    b.putShort(14 + 2, (short) (20 + length), java.nio.ByteOrder.BIG_ENDIAN);
    b.putShort(14 + 6, (short) ((more ? 0x2000 : 0) | from / 8), java.nio.ByteOrder.BIG_ENDIAN);
    b.putShort(14 + 10, (short) 0);
    b.putShort(
        14 + 10, (short) InternetChecksum.checksum(b, 14, 20), java.nio.ByteOrder.BIG_ENDIAN);
    return f;
  }

  /** Byte offsets in a 6in4 frame: the inner header starts at 34, in a 6in6 frame at 54. */
  static final int IN4 = 14 + 20;

  static final int IN6 = 14 + 40;

  static Stream<Arguments> malformed() {
    return Stream.of(
        // description, frame, change, the counter it must end in
        bad("inner version 4 under protocol 41", sixInFour(), f -> f[IN4] = 0x45, "drop_bad_inner"),
        bad(
            "inner payload length beyond the outer payload",
            sixInFour(),
            f -> f[IN4 + 5] = 0x30,
            "drop_bad_inner"),
        bad(
            "inner packet shorter than its fixed header",
            hex(
                ETHERNET_IPV4
                    + "4500002c123440004029984dc6120101c6120302"
                    + INNER.substring(0, 48)),
            f -> {},
            "drop_bad_inner"),
        bad(
            "inner hop-by-hop after another header (misordered)",
            sixInFour(),
            f -> {
              // next header: destination options (60) whose own next header is hop-by-hop (0):
              // the TCP header's first bytes read as that extension header.
              f[IN4 + 6] = 60;
              f[IN4 + 40] = 0;
              f[IN4 + 41] = 0; // 8 bytes long
            },
            "drop_bad_inner"),
        bad("inner multicast source", sixInFour(), f -> f[IN4 + 8] = (byte) 0xff, "drop_bad_inner"),
        bad(
            "inner to no virtual host of this host server",
            sixInFour(),
            f -> f[IN4 + 39] = 0x11,
            "drop_no_virtual_host"),
        bad("outer IPv4 checksum wrong", sixInFour(), f -> f[14 + 11] ^= 1, "drop_bad_outer"),
        bad("outer IPv4 to another host", sixInFour(), f -> f[14 + 19] = 3, "not_tunnelled"),
        bad("outer IPv6 to another address", sixInSix(), f -> f[14 + 39] = 3, "not_tunnelled"),
        bad(
            "outer IPv6 carrying ICMPv6, not a tunnel",
            sixInSix(),
            f -> f[14 + 6] = 58,
            "not_tunnelled"),
        bad(
            "outer IPv6 payload length beyond the frame",
            sixInSix(),
            f -> f[14 + 5] = 0x50,
            "drop_bad_outer"),
        bad(
            "outer IPv6 truncated inside its fixed header",
            hex(ETHERNET_IPV6 + OUTER6.substring(0, 70)),
            f -> {},
            "not_tunnelled"),
        bad(
            "outer IPv6 a non-first fragment",
            hex(
                ETHERNET_IPV6
                    + "6000000000442c40" // payload 68, next header 44 (fragment)
                    + OUTER6.substring(16)
                    + "2900000800000001" // next header 41, offset 1 (8 bytes), id 1
                    + INNER),
            f -> {},
            "drop_outer_fragment"));
  }

  private static Arguments bad(
      String description, byte[] frame, Consumer<byte[]> change, String counter) {
    change.accept(frame);
    return Arguments.of(description, frame, counter);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void shouldCountEachMalformationAndLetTheNextGoodFrameIn(
      String description, byte[] frame, String counter) {
    send(frame);
    Map<String, Long> nonZero = new java.util.TreeMap<>();
    for (int i = 0; i < HostServerCounter.count(); i++) {
      if (counters.get(i) != 0) {
        nonZero.put(HostServerCounter.of(i).metricName(), counters.get(i));
      }
    }
    assertTrue(injected.isEmpty(), description + ": nothing injected");
    assertEquals(1L, nonZero.get(counter), description + ": " + nonZero);
    assertOutcomesAddUp();
    send(sixInFour());
    send(sixInSix());
    assertEquals(2, injected.size(), description + ": the next good frames go in");
    assertArrayEquals(hex(INNER), injected.get(1));
    assertOutcomesAddUp();
  }

  @Test
  void shouldCountBadInnerIpv6BesideTheFamilyBlindCounter() {
    byte[] f = sixInFour();
    f[IN4] = 0x45;
    send(f);
    assertEquals(1, get(HostServerCounter.BAD_INNER_IPV6));
    assertEquals(1, get(HostServerCounter.DROP_BAD_INNER));
  }

  @Test
  void shouldCountAFailedWriteAsADrop() {
    sinkWorks = false;
    send(sixInFour());
    assertEquals(1, get(HostServerCounter.DROP_INJECT_FAILED));
    assertOutcomesAddUp();
  }

  @Test
  void shouldTakeNoIpv6InIpv6WithoutAnIpv6Address() {
    Counters c = new Counters(HostServerCounter.count());
    List<byte[]> out = new ArrayList<>();
    HostServerPath v4only =
        new HostServerPath(
            ADDRESS,
            c,
            table,
            (buffer, offset, length) -> out.add(new byte[length]),
            4,
            5_000_000_000L);
    byte[] frame = sixInSix();
    slot.putBytes(64, frame);
    v4only.process(slot, 64, frame.length, 0);
    assertEquals(1, c.get(HostServerCounter.NOT_TUNNELLED.id()));
    frame = sixInFour();
    slot.putBytes(64, frame);
    v4only.process(slot, 64, frame.length, 0);
    assertEquals(1, out.size(), "IPv6-in-IPv4 needs no IPv6 address");
  }

  @Test
  void shouldForgetARemovedIpv6VirtualHost() {
    table.bind6(ORIGIN6[0], ORIGIN6[1], 6, 80);
    assertTrue(table.isBound6(ORIGIN6[0], ORIGIN6[1], 6, 80));
    table.removeVirtualHost6(ORIGIN6[0], ORIGIN6[1]);
    assertEquals(0, table.boundPorts());
    send(sixInFour());
    assertEquals(1, get(HostServerCounter.DROP_NO_VIRTUAL_HOST));
  }

  /** A link that records what it was offered (EtherType and bytes), sent at each flush. */
  private static final class RecordedLink implements VirtualHostLinks.Link {
    final List<String> queued = new ArrayList<>();
    final List<String> sent = new ArrayList<>();
    final int mtu;
    boolean closed;

    RecordedLink(int mtu) {
      this.mtu = mtu;
    }

    @Override
    public boolean offer(int etherType, org.agrona.DirectBuffer buffer, int offset, int length) {
      if (length > mtu) {
        return false;
      }
      byte[] p = new byte[length];
      buffer.getBytes(offset, p);
      queued.add(String.format("%04x ", etherType) + HexFormat.of().formatHex(p));
      return true;
    }

    @Override
    public void flush() {
      sent.addAll(queued);
      queued.clear();
    }

    @Override
    public void close() {
      flush();
      closed = true;
    }
  }

  @Test
  void shouldWriteBothTunnelsOntoTheVirtualHostsLinkAsIpv6Frames() {
    VirtualHostLinks links = new VirtualHostLinks();
    path.links(links);
    RecordedLink link = new RecordedLink(1500);
    assertTrue(links.install6(ORIGIN6[0], ORIGIN6[1], link));
    send(sixInFour());
    send(sixInSix());
    assertEquals(List.of(), link.sent, "queued until the batch's flush");
    path.flush();
    assertEquals(List.of("86dd " + INNER, "86dd " + INNER), link.sent);
    assertEquals(List.of(), injected, "nothing through the TUN");
    assertEquals(2, get(HostServerCounter.INJECTED));
    assertEquals(2, get(HostServerCounter.INJECTED_IPV6));
    assertEquals(2, get(HostServerCounter.INJECTED_LINK));
    assertEquals(2, get(HostServerCounter.INJECTED_LINK_IPV6));
    assertEquals(2 * INNER.length() / 2, get(HostServerCounter.INJECTED_BYTES));
    assertOutcomesAddUp();
  }

  @Test
  void shouldTakeTheTunWithoutALinkOrForAPacketTheLinkRefusesAfterWhatTheLinkHolds() {
    VirtualHostLinks links = new VirtualHostLinks();
    path.links(links);
    send(sixInFour()); // the neighbour not resolved yet: no link
    assertEquals(1, injected.size());
    RecordedLink link = new RecordedLink(60);
    links.install6(ORIGIN6[0], ORIGIN6[1], link);
    send(sixInFour()); // 60 bytes: fits
    RecordedLink small = new RecordedLink(59);
    links.install6(ORIGIN6[0], ORIGIN6[1], small); // the first closed, what it held sent
    assertTrue(link.closed);
    assertEquals(1, link.sent.size());
    send(sixInSix()); // refused by the link: the TUN
    assertEquals(2, injected.size());
    assertArrayEquals(hex(INNER), injected.get(1));
    assertEquals(3, get(HostServerCounter.INJECTED_IPV6));
    assertEquals(1, get(HostServerCounter.INJECTED_LINK_IPV6));
    links.remove6(ORIGIN6[0], ORIGIN6[1]);
    assertTrue(small.closed);
    assertEquals(0, links.size());
    send(sixInFour());
    assertEquals(3, injected.size());
    assertOutcomesAddUp();
  }

  @Test
  void shouldKeepIpv4AndIpv6LinksApartAndFlushBoth() {
    VirtualHostLinks links = new VirtualHostLinks();
    RecordedLink four = new RecordedLink(1500);
    RecordedLink six = new RecordedLink(1500);
    links.install(ADDRESS, four);
    links.install6(ORIGIN6[0], ORIGIN6[1], six);
    assertEquals(2, links.size());
    assertTrue(links.has(ADDRESS));
    assertTrue(links.has6(ORIGIN6[0], ORIGIN6[1]));
    assertTrue(!links.has6(0, ADDRESS));
    UnsafeBuffer p = new UnsafeBuffer(hex(INNER));
    assertTrue(links.write6(ORIGIN6[0], ORIGIN6[1], p, 0, p.capacity()));
    assertTrue(links.write(ADDRESS, p, 0, 20));
    assertTrue(!links.write6(ORIGIN6[0], ORIGIN6[1] + 1, p, 0, p.capacity()));
    links.flush();
    assertEquals(1, four.sent.size());
    assertTrue(four.sent.get(0).startsWith("0800 "));
    assertEquals(List.of("86dd " + INNER), six.sent);
  }
}
