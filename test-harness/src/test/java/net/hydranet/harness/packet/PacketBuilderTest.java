package net.hydranet.harness.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.Arrays;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class PacketBuilderTest {
  static final long CLIENT_MAC = 0x02_00_5e_10_00_01L;
  static final long ROUTER_MAC = 0x02_00_5e_10_00_02L;
  static final int CLIENT = Ipv4Addr.of("198.18.0.1");
  static final int SERVICE = Ipv4Addr.of("198.19.0.10");

  private static UnsafeBuffer wrap(byte[] frame) {
    return new UnsafeBuffer(frame);
  }

  @Test
  void shouldBuildUdpFrameWithLengthsAndChecksums() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .ttl(17)
            .id(0x1234)
            .dontFragment(true)
            .tos(0x10)
            .udp(40000, 53)
            .payload(100)
            .build();
    UnsafeBuffer b = wrap(frame);
    assertEquals(14 + 20 + 8 + 100, frame.length);
    assertEquals(ROUTER_MAC, EthernetHeader.destination(b, 0));
    assertEquals(CLIENT_MAC, EthernetHeader.source(b, 0));
    assertEquals(EthernetHeader.TYPE_IPV4, EthernetHeader.type(b, 0));
    int ip = Frames.ipv4Offset(frame);
    assertEquals(14, ip);
    assertEquals(4, Ipv4Header.version(b, ip));
    assertEquals(20, Ipv4Header.headerLength(b, ip));
    assertEquals(128, Ipv4Header.totalLength(b, ip));
    assertEquals(17, Ipv4Header.ttl(b, ip));
    assertEquals(0x1234, Ipv4Header.id(b, ip));
    assertEquals(0x10, Ipv4Header.tos(b, ip));
    assertTrue(Ipv4Header.dontFragment(b, ip));
    assertFalse(Ipv4Header.isFragment(b, ip));
    assertEquals(Ipv4Header.PROTOCOL_UDP, Ipv4Header.protocol(b, ip));
    assertEquals(CLIENT, Ipv4Header.source(b, ip));
    assertEquals(SERVICE, Ipv4Header.destination(b, ip));
    assertTrue(InternetChecksum.verify(b, ip, 20));
    assertEquals(40000, UdpHeader.sourcePort(b, ip + 20));
    assertEquals(53, UdpHeader.destinationPort(b, ip + 20));
    assertEquals(108, UdpHeader.length(b, ip + 20));
    assertNotEquals(0, UdpHeader.checksum(b, ip + 20));
    assertTrue(pseudoHeaderChecksumVerifies(b, ip));
    assertEquals(99, frame[frame.length - 1] & 0xFF, "payload pattern is i mod 256");
    assertTrue(Frames.checksumsValid(frame));
  }

  @Test
  void shouldBuildTcpSynWithMssAndOptions() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4("198.18.0.1", "198.19.0.10")
            .tcp(51000, 80)
            .flags(TcpHeader.FLAG_SYN)
            .seq(0xFFFF_FFF0L)
            .mss(1460)
            .tcpOptions(new byte[] {1, 3, 3, 7}) // NOP, window scale 7
            .build();
    UnsafeBuffer b = wrap(frame);
    int tcp = 14 + 20;
    assertEquals(28, TcpHeader.headerLength(b, tcp));
    assertEquals(TcpHeader.FLAG_SYN, TcpHeader.flags(b, tcp));
    assertEquals(0xFFFF_FFF0, b.getInt(tcp + TcpHeader.SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN));
    int mss = TcpHeader.mssOptionOffset(b, tcp, 28);
    assertEquals(tcp + 20, mss);
    assertEquals(1460, b.getShort(mss + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF);
    assertEquals(48, Ipv4Header.totalLength(b, 14));
    assertTrue(pseudoHeaderChecksumVerifies(b, 14));
    assertTrue(Frames.checksumsValid(frame));
  }

  @Test
  void shouldPadTcpOptionsToFourBytes() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .tcp(1, 2)
            .tcpOptions(new byte[] {1})
            .payload(3)
            .build();
    UnsafeBuffer b = wrap(frame);
    assertEquals(24, TcpHeader.headerLength(b, 34));
    assertEquals(14 + 20 + 24 + 3, frame.length);
    assertTrue(Frames.checksumsValid(frame));
  }

  @Test
  void shouldPlaceIpv4BehindVlanTag() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .vlan(100)
            .ipv4(CLIENT, SERVICE)
            .udp(1, 2)
            .build();
    UnsafeBuffer b = wrap(frame);
    assertEquals(EthernetHeader.TYPE_VLAN, EthernetHeader.type(b, 0));
    assertEquals(100, b.getShort(EthernetHeader.VLAN_TCI_OFFSET, ByteOrder.BIG_ENDIAN));
    assertEquals(18, Frames.ipv4Offset(frame));
    assertTrue(Frames.checksumsValid(frame));
  }

  @Test
  void shouldBuildIcmpEchoAndErrorQuotingADatagram() {
    byte[] echo =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .icmpEcho(7, 1)
            .payload(56)
            .build();
    UnsafeBuffer b = wrap(echo);
    assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, IcmpHeader.type(b, 34));
    assertTrue(InternetChecksum.verify(b, 34, 8 + 56));
    assertTrue(Frames.checksumsValid(echo));

    byte[] offending =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .dontFragment(true)
            .tcp(51000, 80)
            .payload(1460)
            .build();
    byte[] quoted = Arrays.copyOfRange(offending, 14, 14 + 20 + 8);
    byte[] error =
        PacketBuilder.ethernet(ROUTER_MAC, CLIENT_MAC)
            .ipv4(Ipv4Addr.of("198.18.0.254"), CLIENT)
            .icmpError(
                IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
                IcmpHeader.CODE_FRAGMENTATION_NEEDED,
                1480,
                quoted)
            .build();
    UnsafeBuffer e = wrap(error);
    assertEquals(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, IcmpHeader.type(e, 34));
    assertEquals(IcmpHeader.CODE_FRAGMENTATION_NEEDED, IcmpHeader.code(e, 34));
    assertEquals(1480, IcmpHeader.nextHopMtu(e, 34));
    assertEquals(Ipv4Header.PROTOCOL_ICMP, Ipv4Header.protocol(e, 14));
    assertArrayEquals(quoted, Arrays.copyOfRange(error, 42, error.length));
    assertTrue(Frames.checksumsValid(error));
  }

  @Test
  void shouldCarryInnerDatagramForIpInIp() {
    byte[] original =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .udp(40000, 53)
            .payload(10)
            .build();
    byte[] inner = Arrays.copyOfRange(original, 14, original.length);
    byte[] outer =
        PacketBuilder.ethernet(ROUTER_MAC, 0x02_00_5e_10_00_03L)
            .ipv4("198.18.2.1", "198.18.2.2")
            .ipPayload(inner)
            .build();
    UnsafeBuffer b = wrap(outer);
    assertEquals(Ipv4Header.PROTOCOL_IPIP, Ipv4Header.protocol(b, 14));
    assertEquals(20 + inner.length, Ipv4Header.totalLength(b, 14));
    assertTrue(Frames.checksumsValid(outer));

    // A broken inner checksum is found through the outer header.
    inner[10] ^= 1;
    byte[] broken =
        PacketBuilder.ethernet(ROUTER_MAC, 0x02_00_5e_10_00_03L)
            .ipv4("198.18.2.1", "198.18.2.2")
            .ipPayload(inner)
            .build();
    assertTrue(Frames.ipChecksumValid(broken));
    assertFalse(Frames.checksumsValid(broken));
  }

  @Test
  void shouldWriteOptionsAndFragmentFields() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv4(CLIENT, SERVICE)
            .options(new byte[] {(byte) 0x94, 4, 0, 0}) // router alert (RFC 2113)
            .moreFragments(true)
            .fragmentOffset(1480)
            .protocol(Ipv4Header.PROTOCOL_UDP)
            .payload(16)
            .build();
    UnsafeBuffer b = wrap(frame);
    assertEquals(24, Ipv4Header.headerLength(b, 14));
    assertEquals(24 + 16, Ipv4Header.totalLength(b, 14));
    assertTrue(Ipv4Header.isFragment(b, 14));
    assertEquals(1480, Ipv4Header.fragmentOffset(b, 14));
    assertEquals(Ipv4Header.FLAG_MF | (1480 / 8), Ipv4Header.flagsFragment(b, 14));
    assertTrue(InternetChecksum.verify(b, 14, 24));
    assertTrue(Frames.checksumsValid(frame));
  }

  @Test
  void shouldBuildArpRequestAndReply() {
    byte[] request =
        PacketBuilder.ethernet(CLIENT_MAC, EthernetHeader.BROADCAST)
            .arpRequest(CLIENT_MAC, CLIENT, Ipv4Addr.of("198.18.0.254"))
            .build();
    UnsafeBuffer b = wrap(request);
    assertEquals(EthernetHeader.TYPE_ARP, EthernetHeader.type(b, 0));
    assertTrue(ArpPacket.isEthernetIpv4(b, 14));
    assertEquals(ArpPacket.OPERATION_REQUEST, ArpPacket.operation(b, 14));
    assertEquals(CLIENT_MAC, ArpPacket.senderMac(b, 14));
    assertEquals(0, ArpPacket.targetMac(b, 14));
    assertEquals(Ipv4Addr.of("198.18.0.254"), ArpPacket.targetIp(b, 14));
    assertEquals(Frames.NOT_IPV4, Frames.ipv4Offset(request));

    byte[] reply =
        PacketBuilder.ethernet(ROUTER_MAC, CLIENT_MAC)
            .arpReply(ROUTER_MAC, Ipv4Addr.of("198.18.0.254"), CLIENT_MAC, CLIENT)
            .padTo(60)
            .build();
    UnsafeBuffer r = wrap(reply);
    assertEquals(60, reply.length);
    assertEquals(ArpPacket.OPERATION_REPLY, ArpPacket.operation(r, 14));
    assertEquals(CLIENT_MAC, ArpPacket.targetMac(r, 14));
  }

  @Test
  void shouldBreakOnlyWhatEachEscapeHatchNames() {
    byte[] badIp = udp().badIpChecksum().build();
    assertFalse(Frames.ipChecksumValid(badIp));
    assertFalse(Frames.checksumsValid(badIp));

    byte[] badUdp = udp().badL4Checksum().build();
    assertTrue(Frames.ipChecksumValid(badUdp));
    assertFalse(Frames.checksumsValid(badUdp));

    byte[] badTcp =
        PacketBuilder.ethernet(1, 2).ipv4(CLIENT, SERVICE).tcp(1, 2).badL4Checksum().build();
    assertTrue(Frames.ipChecksumValid(badTcp));
    assertFalse(Frames.checksumsValid(badTcp));

    byte[] longLength = udp().totalLength(1500).build();
    assertEquals(1500, Ipv4Header.totalLength(wrap(longLength), 14));
    assertTrue(Frames.ipChecksumValid(longLength), "checksum agrees with the false length");
    assertFalse(Frames.checksumsValid(longLength), "length runs past the frame");

    byte[] shortIhl = udp().ihl(4).build();
    assertEquals(16, Ipv4Header.headerLength(wrap(shortIhl), 14));

    byte[] cut = udp().truncateTo(30).build();
    assertEquals(30, cut.length);
    assertFalse(Frames.checksumsValid(cut));

    byte[] padded =
        PacketBuilder.ethernet(1, 2).ipv4(CLIENT, SERVICE).udp(1, 2).payload(4).padTo(60).build();
    assertEquals(60, padded.length);
    assertEquals(0, padded[59]);
    assertTrue(Frames.checksumsValid(padded), "Ethernet padding is outside the datagram");

    byte[] v6Typed = udp().etherType(EthernetHeader.TYPE_IPV6).build();
    assertEquals(Frames.NOT_IPV4, Frames.ipv4Offset(v6Typed));
  }

  @Test
  void shouldRefuseSettersForLayersNotChosen() {
    assertThrows(IllegalStateException.class, () -> udp().flags(TcpHeader.FLAG_SYN));
    assertThrows(IllegalStateException.class, () -> PacketBuilder.ethernet(1, 2).ttl(3));
    assertThrows(IllegalStateException.class, () -> udp().tcp(1, 2));
    assertThrows(
        IllegalArgumentException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv4(CLIENT, SERVICE).fragmentOffset(12));
    assertThrows(
        IllegalArgumentException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv4(CLIENT, SERVICE).options(new byte[3]));
    assertThrows(IllegalArgumentException.class, () -> Ipv4Addr.of("198.18.0.256"));
  }

  private static PacketBuilder udp() {
    return PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
        .ipv4(CLIENT, SERVICE)
        .udp(40000, 53)
        .payload(20);
  }

  /** Sums pseudo-header and segment independently of {@link Frames}: the result must be 0xFFFF. */
  private static boolean pseudoHeaderChecksumVerifies(UnsafeBuffer b, int ip) {
    int headerLength = Ipv4Header.headerLength(b, ip);
    int length = Ipv4Header.totalLength(b, ip) - headerLength;
    UnsafeBuffer pseudo = new UnsafeBuffer(new byte[12 + length]);
    pseudo.putInt(0, Ipv4Header.source(b, ip), ByteOrder.BIG_ENDIAN);
    pseudo.putInt(4, Ipv4Header.destination(b, ip), ByteOrder.BIG_ENDIAN);
    pseudo.putByte(9, (byte) Ipv4Header.protocol(b, ip));
    pseudo.putShort(10, (short) length, ByteOrder.BIG_ENDIAN);
    pseudo.putBytes(12, b, ip + headerLength, length);
    return InternetChecksum.verify(pseudo, 0, pseudo.capacity());
  }
}
