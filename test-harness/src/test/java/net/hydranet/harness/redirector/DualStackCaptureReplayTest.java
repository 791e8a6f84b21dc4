package net.hydranet.harness.redirector;

import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_MAC;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT6;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT_MAC;
import static net.hydranet.harness.fixture.SampleTopology.HOST_SERVER6;
import static net.hydranet.harness.fixture.SampleTopology.HS0_IP6;
import static net.hydranet.harness.fixture.SampleTopology.MTU;
import static net.hydranet.harness.fixture.SampleTopology.ORIGIN6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.Replay;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.trace.Trace;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@code hydranet replay} of {@code config/replay-sample.yaml} on real dual-stack traffic (issue
 * 21): a capture made here with tcpdump (captures/README.md), and the IPv6 of a capture that a
 * Debian package ships. Each replay ends without an error, counts every frame once, and every frame
 * it writes is whole: a valid IPv4 header checksum or a whole IPv6 packet, lengths that match the
 * bytes, within the MTU, and valid transport checksums where the router made or kept them.
 */
class DualStackCaptureReplayTest {
  private static final Path OUT = Path.of("target", "dual-stack-replay");
  private static final String[] INTERFACES = {"client0", "core0", "hs0"};

  /**
   * gopacket's loopback capture (IPv6 only: an HTTP exchange over ::1, frames up to 16 KiB),
   * shipped by Debian's Go source packages of gopacket; the first that is installed.
   */
  private static final List<Path> GOPACKET_LOOPBACK =
      List.of(
          Path.of("/usr/share/gocode/src/github.com/google/gopacket/pcap/test_loopback.pcap"),
          Path.of("/usr/share/gocode/src/github.com/gopacket/gopacket/pcap/test_loopback.pcap"));

  @Test
  void shouldReplayARealDualStackCaptureThroughTheSample() throws IOException {
    Path capture =
        RedirectorUnderTest.repositoryRoot()
            .resolve("test-harness/src/test/resources/captures/dual-stack.pcap");
    Trace trace = Trace.read(capture);
    long[] origin = Ipv6Header.parseAddress(ORIGIN6);
    int ipv6 = 0;
    int ipv6Accepted = 0;
    int fragments = 0;
    int http6 = 0;
    int http4 = 0;
    for (byte[] f : trace.frames()) {
      assertTrue(Frames.checksumsValid(f), "the capture's checksums are the kernel's, all valid");
      int ip = Frames.ipv6Offset(f);
      if (ip != Frames.NOT_IPV6) {
        ipv6++;
        long to = EthernetHeader.destination(new UnsafeBuffer(f), 0);
        if (to == CLIENT0_MAC || (to >>> 32) == 0x3333) {
          ipv6Accepted++;
        }
        Frames.Ipv6Walk walk = Frames.walkIpv6(f, ip, f.length);
        boolean toOrigin =
            EthernetHeader.destination(new UnsafeBuffer(f), 0) == CLIENT0_MAC
                && Ipv6Header.destinationHigh(new UnsafeBuffer(f), ip) == origin[0]
                && Ipv6Header.destinationLow(new UnsafeBuffer(f), ip) == origin[1];
        if (toOrigin && walk.fragmentOffset() >= 0) {
          fragments++;
        }
        if (toOrigin
            && walk.protocol() == Ipv6Header.NEXT_HEADER_TCP
            && port(f, walk.upper()) == 80) {
          http6++;
        }
      }
      int ip4 = Frames.ipv4Offset(f);
      if (ip4 != Frames.NOT_IPV4
          && EthernetHeader.destination(new UnsafeBuffer(f), 0) == CLIENT0_MAC
          && Ipv4Header.protocol(new UnsafeBuffer(f), ip4) == Ipv4Header.PROTOCOL_TCP
          && port(f, ip4 + Ipv4Header.headerLength(new UnsafeBuffer(f), ip4)) == 80) {
        http4++;
      }
    }
    assertTrue(ipv6 > trace.size() / 2 && fragments == 3 && http6 > 0 && http4 > 0, "dual-stack");

    Map<String, Long> counters = replay(sample(), capture, "dual-stack");

    assertEquals((long) trace.size(), counters.get("records"), "every record read");
    assertEquals(0L, counters.get("skipped"), "no frame longer than a slot");
    assertEquals(trace.size(), counters.get("rx_frames"), "every frame received");
    assertEquals(counters.get("rx_frames"), counters.get("outcomes"), "every frame counted once");
    // A frame to another MAC is not-for-us before its EtherType is read (RealCaptureReplayTest).
    assertEquals(
        ipv6Accepted, counters.get("rx_ipv6_frames"), "IPv6 past the MAC filter: " + counters);
    assertEquals(http4 + http6, counters.get("redirected"), "both families' HTTP redirected");
    assertEquals(1, counters.get("icmpv6_sent_echo_reply"), "ping -6 of the router answered");
    assertEquals(1, counters.get("icmpv6_sent_time_exceeded"), "hop limit 1 expires here");
    assertTrue(counters.get("nd_advertisements_sent") > 0, "the client's solicitation answered");
    List<byte[]> hs0 = requireEveryFrameValid("dual-stack", true).get(2);
    long tunnelled6 =
        hs0.stream()
            .filter(f -> EthernetHeader.type(new UnsafeBuffer(f), 0) == EthernetHeader.TYPE_IPV6)
            .filter(f -> Ipv6Header.nextHeader(new UnsafeBuffer(f), 14) == 41)
            .filter(
                f -> address(f, 14 + 8).equals(HS0_IP6) && address(f, 14 + 24).equals(HOST_SERVER6))
            .count();
    assertEquals(http6, tunnelled6, "curl -6 reaches the host server in IPv6-in-IPv6");
  }

  /**
   * The IPv6 of a third-party capture: gopacket's loopback HTTP exchange. Its link type (BSD
   * loopback) is refused by replay in one line; its IPv6 packets, put behind Ethernet headers to
   * the router, are replayed twice: as captured (every packet to ::1, a martian), and moved into
   * 2001:2::/48 as client and origin port 80 (redirected; those over the MTU answered with Packet
   * Too Big, those beyond the 9 KiB slot dropped).
   */
  @Test
  void shouldReplayTheIpv6OfACaptureShippedInDebian() throws IOException {
    Path capture = GOPACKET_LOOPBACK.stream().filter(Files::isReadable).findFirst().orElse(null);
    assumeTrue(
        capture != null,
        "no gopacket test capture: install golang-github-google-gopacket-dev (bin/setup)");

    Files.createDirectories(OUT);
    Replay.Result refused = Replay.run(sample(), capture, OUT.resolve("loopback-refused.pcap"));
    assertNotEquals(0, refused.exitCode(), refused.out());
    assertTrue(
        refused.err().contains("only Ethernet") && refused.err().strip().lines().count() == 1,
        "one line naming the link type: " + refused.err());

    List<byte[]> packets = loopbackIpv6(Files.readAllBytes(capture));
    assertTrue(packets.size() > 10, "the capture is IPv6: " + packets.size() + " packets");

    Trace asCaptured = new Trace();
    Trace moved = new Trace();
    long t = 1_000_000_000L;
    for (byte[] p : packets) {
      asCaptured.add(t, ethernet(p));
      moved.add(t, ethernet(moveToBenchmarkRange(p)));
      t += 1_000_000;
    }
    Path capturedFile = OUT.resolve("loopback-as-captured.pcap");
    Path movedFile = OUT.resolve("loopback-moved.pcap");
    asCaptured.write(capturedFile);
    moved.write(movedFile);

    Map<String, Long> captured = replay(sample(), capturedFile, "loopback-as-captured");
    requireEveryRecordCounted(packets.size(), captured);
    assertEquals(captured.get("rx_frames"), captured.get("outcomes"), "counted once: " + captured);
    assertEquals(
        0L,
        captured.getOrDefault("forwarded", 0L) + captured.getOrDefault("redirected", 0L),
        "nothing to or from ::1 leaves: " + captured);
    requireEveryFrameValid("loopback-as-captured", false);

    Map<String, Long> counters = replay(sample(), movedFile, "loopback-moved");
    requireEveryRecordCounted(packets.size(), counters);
    assertEquals(counters.get("rx_frames"), counters.get("outcomes"), "counted once: " + counters);
    assertTrue(counters.getOrDefault("redirected", 0L) > 0, "client to origin:80 redirected");
    assertTrue(
        counters.getOrDefault("icmpv6_sent_packet_too_big", 0L) > 0,
        "4 KiB segments answered with Packet Too Big: " + counters);
    requireEveryFrameValid("loopback-moved", true);
  }

  /** Each record received or said to be skipped (the 16 KiB ones: longer than a slot). */
  private static void requireEveryRecordCounted(int records, Map<String, Long> counters) {
    assertEquals((long) records, counters.get("records"), "every record read: " + counters);
    assertTrue(counters.get("skipped") > 0, "16 KiB segments are longer than a slot: " + counters);
    assertEquals(
        counters.get("records") - counters.get("skipped"),
        counters.get("rx_frames"),
        "every record received or skipped: " + counters);
  }

  private static Path sample() {
    return RedirectorUnderTest.repositoryRoot().resolve("config/replay-sample.yaml");
  }

  private static Map<String, Long> replay(Path config, Path input, String stem) throws IOException {
    Files.createDirectories(OUT);
    Replay.Result r = Replay.run(config, input, OUT.resolve(stem + ".pcap"));
    assertEquals(0, r.exitCode(), r.out() + r.err());
    return r.counters();
  }

  /**
   * Every frame replay wrote for {@code stem}, by interface, after checking each: ARP of ARP's
   * length; IPv4 with a valid header checksum and a total length equal to its bytes; IPv6 whole
   * (extension headers inside the payload, payload length equal to its bytes); within the MTU; no
   * other EtherType; and, with {@code checksums}, every transport checksum valid (the inputs'
   * were).
   */
  private static List<List<byte[]>> requireEveryFrameValid(String stem, boolean checksums) {
    List<List<byte[]>> all = new ArrayList<>();
    for (String name : INTERFACES) {
      Path file = OUT.resolve(stem + "." + name + ".pcap");
      List<byte[]> frames = Trace.read(file).frames();
      for (byte[] f : frames) {
        assertNull(problem(f, checksums), name + ": " + hex(f));
      }
      all.add(frames);
    }
    return all;
  }

  private static String problem(byte[] f, boolean checksums) {
    if (f.length < EthernetHeader.LENGTH) {
      return "runt";
    }
    UnsafeBuffer b = new UnsafeBuffer(f);
    int type = EthernetHeader.type(b, 0);
    int ip = EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_ARP) {
      return f.length == EthernetHeader.LENGTH + 28 ? null : "ARP of " + f.length + " bytes";
    }
    if (f.length - ip > MTU) {
      return "over the MTU";
    }
    if (type == EthernetHeader.TYPE_IPV4) {
      int ihl = Ipv4Header.headerLength(b, ip);
      if (ihl < Ipv4Header.MIN_LENGTH
          || ip + ihl > f.length
          || !InternetChecksum.verify(b, ip, ihl)
          || Ipv4Header.totalLength(b, ip) != f.length - ip) {
        return "bad IPv4 header";
      }
    } else if (type == EthernetHeader.TYPE_IPV6) {
      Frames.Ipv6Walk walk = Frames.walkIpv6(f, ip, f.length);
      if (walk == null || walk.end() != f.length) {
        return "not a whole IPv6 packet";
      }
    } else {
      return "EtherType " + Integer.toHexString(type);
    }
    return !checksums || Frames.checksumsValid(f) ? null : "a bad transport checksum";
  }

  /**
   * The IPv6 packets of a classic pcap file of link type NULL (0) or LOOP (108): each record's
   * 4-byte address family is dropped and what follows is kept if its version is 6. Read here
   * because replay, rightly, reads Ethernet captures only.
   */
  static List<byte[]> loopbackIpv6(byte[] file) {
    ByteBuffer b = ByteBuffer.wrap(file);
    int magic = b.getInt(0);
    if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
      b.order(ByteOrder.LITTLE_ENDIAN);
    } else if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
      throw new IllegalArgumentException("not a classic pcap file");
    }
    int linkType = b.getInt(20) & 0x0FFF_FFFF;
    if (linkType != 0 && linkType != 108) {
      throw new IllegalArgumentException("link type " + linkType + ", not NULL or LOOP");
    }
    List<byte[]> packets = new ArrayList<>();
    for (int at = 24; at + 16 <= file.length; ) {
      int captured = b.getInt(at + 8);
      int start = at + 16;
      if (captured < 0 || start + captured > file.length) {
        break;
      }
      if (captured > 4 + 40 && (file[start + 4] & 0xF0) == 0x60) {
        packets.add(java.util.Arrays.copyOfRange(file, start + 4, start + captured));
      }
      at = start + captured;
    }
    return packets;
  }

  /** The packet behind an Ethernet header from the sample's client to the router's client0. */
  private static byte[] ethernet(byte[] packet) {
    byte[] frame = new byte[EthernetHeader.LENGTH + packet.length];
    UnsafeBuffer b = new UnsafeBuffer(frame);
    EthernetHeader.write(b, 0, CLIENT0_MAC, CLIENT_MAC, EthernetHeader.TYPE_IPV6);
    b.putBytes(EthernetHeader.LENGTH, packet);
    return frame;
  }

  /**
   * The packet with ::1 (both ends) replaced: the side on port 8080 becomes the sample's origin on
   * port 80, the other its client; the TCP checksum is computed anew. Other packets unchanged.
   */
  static byte[] moveToBenchmarkRange(byte[] packet) {
    byte[] p = packet.clone();
    if ((p[6] & 0xFF) != Ipv6Header.NEXT_HEADER_TCP || p.length < 60) {
      return p;
    }
    UnsafeBuffer b = new UnsafeBuffer(p);
    int tcp = 40;
    int sourcePort = b.getShort(tcp, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    boolean fromServer = sourcePort == 8080;
    long[] client = Ipv6Header.parseAddress(CLIENT6);
    long[] origin = Ipv6Header.parseAddress(ORIGIN6);
    long[] from = fromServer ? origin : client;
    long[] to = fromServer ? client : origin;
    Ipv6Header.address(b, Ipv6Header.SOURCE_OFFSET, from[0], from[1]);
    Ipv6Header.address(b, Ipv6Header.DESTINATION_OFFSET, to[0], to[1]);
    int portField = fromServer ? tcp : tcp + 2;
    if ((b.getShort(portField, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 8080) {
      b.putShort(portField, (short) 80, ByteOrder.BIG_ENDIAN);
    }
    int length = Math.min(p.length, 40 + (b.getShort(4, ByteOrder.BIG_ENDIAN) & 0xFFFF)) - tcp;
    b.putShort(tcp + 16, (short) 0);
    long sum = length + Ipv6Header.NEXT_HEADER_TCP;
    for (int i = 8; i < 40; i += 2) {
      sum += b.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }
    int checksum = ~InternetChecksum.fold(InternetChecksum.sum(b, tcp, length, sum)) & 0xFFFF;
    b.putShort(tcp + 16, (short) checksum, ByteOrder.BIG_ENDIAN);
    return p;
  }

  private static int port(byte[] f, int l4) {
    return l4 + 4 <= f.length ? ((f[l4 + 2] & 0xFF) << 8) | (f[l4 + 3] & 0xFF) : -1;
  }

  private static String address(byte[] f, int at) {
    UnsafeBuffer b = new UnsafeBuffer(f);
    return Ipv6Header.formatAddress(
        b.getLong(at, ByteOrder.BIG_ENDIAN), b.getLong(at + 8, ByteOrder.BIG_ENDIAN));
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte x : bytes) {
      s.append(String.format("%02x", x & 0xFF));
    }
    return s.toString();
  }
}
