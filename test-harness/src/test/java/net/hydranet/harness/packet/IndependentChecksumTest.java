package net.hydranet.harness.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.hydranet.forwarding.io.file.PcapFileTxPort;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

/** Cross-checks the builder's checksums with two implementations that are not ours. */
class IndependentChecksumTest {
  @TempDir Path dir;

  static Stream<Arguments> frames() {
    long a = PacketBuilderTest.CLIENT_MAC;
    long b = PacketBuilderTest.ROUTER_MAC;
    int src = PacketBuilderTest.CLIENT;
    int dst = PacketBuilderTest.SERVICE;
    return Stream.of(
        Arguments.of("udp", PacketBuilder.ethernet(a, b).ipv4(src, dst).udp(5, 53).payload(33)),
        Arguments.of(
            "tcp syn mss",
            PacketBuilder.ethernet(a, b)
                .ipv4(src, dst)
                .tcp(51000, 80)
                .flags(TcpHeader.FLAG_SYN)
                .seq(12345)
                .mss(1460)
                .payload(0)),
        Arguments.of(
            "tcp odd payload, ip options",
            PacketBuilder.ethernet(a, b)
                .ipv4(src, dst)
                .options(new byte[] {1, 1, 1, 0})
                .tcp(1, 2)
                .payload(1001)),
        Arguments.of(
            "icmp echo", PacketBuilder.ethernet(a, b).ipv4(src, dst).icmpEcho(1, 2).payload(57)),
        Arguments.of(
            "icmp frag needed",
            PacketBuilder.ethernet(a, b)
                .ipv4(dst, src)
                .icmpError(
                    IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
                    IcmpHeader.CODE_FRAGMENTATION_NEEDED,
                    1480,
                    quotedTcp())));
  }

  /** The first 28 bytes of a TCP datagram, as a router quotes it in an ICMP error. */
  private static byte[] quotedTcp() {
    byte[] offending =
        PacketBuilder.ethernet(1, 2)
            .ipv4(PacketBuilderTest.CLIENT, PacketBuilderTest.SERVICE)
            .dontFragment(true)
            .tcp(51000, 80)
            .payload(1460)
            .build();
    return java.util.Arrays.copyOfRange(offending, 14, 14 + 28);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("frames")
  void shouldAgreeWithPcap4jParser(String name, PacketBuilder builder) throws Exception {
    byte[] frame = builder.build();
    EthernetPacket ethernet = EthernetPacket.newPacket(frame, 0, frame.length);
    IpV4Packet ip = ethernet.get(IpV4Packet.class);
    assertNotNull(ip, "pcap4j parsed no IPv4 (is pcap4j-packetfactory-static present?)");
    assertTrue(ip.getHeader().hasValidChecksum(false), name + ": IPv4 header checksum");
    var srcAddr = ip.getHeader().getSrcAddr();
    var dstAddr = ip.getHeader().getDstAddr();
    UdpPacket udp = ethernet.get(UdpPacket.class);
    TcpPacket tcp = ethernet.get(TcpPacket.class);
    IcmpV4CommonPacket icmp = ethernet.get(IcmpV4CommonPacket.class);
    if (udp != null) {
      assertTrue(udp.hasValidChecksum(srcAddr, dstAddr, false), name + ": UDP checksum");
    } else if (tcp != null) {
      assertTrue(tcp.hasValidChecksum(srcAddr, dstAddr, false), name + ": TCP checksum");
    } else {
      assertNotNull(icmp, name + ": no transport parsed");
      assertTrue(icmp.hasValidChecksum(false), name + ": ICMP checksum");
    }
  }

  @Test
  void shouldBeFlaggedByPcap4jWhenBroken() throws Exception {
    byte[] frame =
        PacketBuilder.ethernet(1, 2)
            .ipv4(PacketBuilderTest.CLIENT, PacketBuilderTest.SERVICE)
            .udp(1, 2)
            .badL4Checksum()
            .badIpChecksum()
            .build();
    IpV4Packet ip = EthernetPacket.newPacket(frame, 0, frame.length).get(IpV4Packet.class);
    assertFalse(ip.getHeader().hasValidChecksum(false));
    UdpPacket udp = ip.get(UdpPacket.class);
    assertFalse(
        udp.hasValidChecksum(ip.getHeader().getSrcAddr(), ip.getHeader().getDstAddr(), false));
  }

  @Test
  void shouldAgreeWithTshark() throws Exception {
    Assumptions.assumeTrue(onPath("tshark"), "tshark not installed");
    List<byte[]> good = frames().map(args -> ((PacketBuilder) args.get()[1]).build()).toList();
    Path goodFile = write("good.pcap", good);
    String goodOut = tshark(goodFile);
    assertFalse(goodOut.contains("incorrect"), goodOut);
    assertFalse(goodOut.contains("Bad]"), goodOut);
    // IP, then the transport: at least two verified checksums per frame (tshark also checks the
    // IP header quoted inside an ICMP error).
    long verified =
        goodOut
            .lines()
            .filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("status: good"))
            .count();
    assertTrue(verified >= 2L * good.size(), verified + " good checksums\n" + goodOut);

    // The checks are live: a broken frame is reported as such.
    byte[] bad =
        PacketBuilder.ethernet(1, 2)
            .ipv4(PacketBuilderTest.CLIENT, PacketBuilderTest.SERVICE)
            .tcp(1, 2)
            .badL4Checksum()
            .build();
    String badOut = tshark(write("bad.pcap", List.of(bad)));
    assertTrue(badOut.contains("Bad]"), badOut);
  }

  private Path write(String name, List<byte[]> frames) {
    Path file = dir.resolve(name);
    try (PcapFileTxPort port = new PcapFileTxPort(file)) {
      for (byte[] frame : frames) {
        assertTrue(port.send(new UnsafeBuffer(frame), 0, frame.length, 0));
      }
    }
    return file;
  }

  private static String tshark(Path file) throws Exception {
    Process process =
        new ProcessBuilder(
                "tshark",
                "-n",
                "-V",
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-r",
                file.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "tshark timed out");
    assertEquals(0, process.exitValue(), out);
    return out;
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }
}
