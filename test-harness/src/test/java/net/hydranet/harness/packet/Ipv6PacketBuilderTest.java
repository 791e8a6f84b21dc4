package net.hydranet.harness.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.Ipv6HeaderChain;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The IPv6 side of {@link PacketBuilder} against frames the Linux kernel sent (copied from
 * forwarding-plane's wire/ipv6/client.pcap, frames 13, 27 and 29; its README says how they were
 * made): the builder must produce them byte for byte.
 */
class Ipv6PacketBuilderTest {
  private static final long CLIENT_MAC = 0x0200_0000_0110L;
  private static final long ROUTER_MAC = 0x0200_0000_0101L;
  private static final int ETH = EthernetHeader.LENGTH;

  private static byte[] hex(String text) {
    return HexFormat.of().parseHex(text);
  }

  private static byte[] pattern(int from, int to) {
    byte[] b = new byte[to - from];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (from + i);
    }
    return b;
  }

  @Test
  void shouldBuildTheKernelsEchoRequest() {
    byte[] kernel =
        hex(
            "02000000010102000000011086dd600a075700403a40200100020000000100000000000000102001"
                + "0002000000010000000000000001800040bc3e85000188e9146b000000005e020600000000"
                + "00101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334"
                + "353637");
    byte[] data = new byte[56];
    System.arraycopy(hex("88e9146b000000005e02060000000000"), 0, data, 0, 16);
    System.arraycopy(pattern(0x10, 0x38), 0, data, 16, 40);
    byte[] built =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:1::1")
            .flowLabel(0xa0757)
            .icmpv6Echo(0x3e85, 1)
            .payload(data)
            .build();
    assertArrayEquals(kernel, built);
  }

  @Test
  void shouldBuildTheKernelsTcpSynWithItsOptions() {
    byte[] kernel =
        hex(
            "02000000010102000000011086dd6000e132002806402001000200000001000000000000001020"
                + "010002000000020000000000000010a4d61f403a05d72100000000a002fc94e9d900000204"
                + "04c40402080a49a00378000000000103030a");
    byte[] built =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
            .flowLabel(0x0e132)
            .tcp(0xa4d6, 8000)
            .flags(0x02)
            .seq(0x3a05d721L)
            .window(0xfc94)
            .mss(1220)
            .tcpOptions(hex("0402080a49a00378000000000103030a"))
            .build();
    assertArrayEquals(kernel, built);
  }

  @Test
  void shouldBuildTheKernelsUdpDatagram() {
    byte[] kernel =
        hex(
            "02000000010102000000011086dd600938070011114020010002000000010000000000000010"
                + "200100020000000200000000000000109390270f0011673568796472616e65740a");
    byte[] built =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
            .flowLabel(0x93807)
            .udp(0x9390, 9999)
            .payload("hydranet\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
            .build();
    assertArrayEquals(kernel, built);
  }

  @Test
  void shouldChainExtensionHeadersInTheOrderAdded() {
    byte[] frame =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
            .extensionHeader(Ipv6Header.NEXT_HEADER_HOP_BY_HOP, 8)
            .extensionHeader(Ipv6Header.NEXT_HEADER_DESTINATION_OPTIONS, 16)
            .extensionHeader(Ipv6Header.NEXT_HEADER_ROUTING, 24)
            .ipv6Fragment(0, true, 0x1234)
            .udp(1000, 53)
            .payload(10)
            .build();
    UnsafeBuffer b = new UnsafeBuffer(frame);
    Ipv6HeaderChain chain = new Ipv6HeaderChain();
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, frame.length - ETH));
    assertEquals(4, chain.headerCount());
    assertEquals(Ipv6Header.NEXT_HEADER_UDP, chain.upperLayerProtocol());
    assertEquals(ETH + 40 + 8 + 16 + 24 + 8, chain.upperLayerOffset());
    assertEquals(18, chain.upperLayerLength());
    int fh = chain.fragmentHeaderOffset();
    assertEquals(0x1234, Ipv6FragmentHeader.identification(b, fh));
    assertTrue(Ipv6FragmentHeader.moreFragments(b, fh));
    assertTrue(
        Ipv6Header.verifyUpperLayer(
            b, ETH, chain.upperLayerOffset(), 18, Ipv6Header.NEXT_HEADER_UDP));
  }

  @Test
  void shouldBreakExactlyOneThing() {
    byte[] bad =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
            .icmpv6Echo(1, 1)
            .payload(8)
            .badL4Checksum()
            .build();
    UnsafeBuffer b = new UnsafeBuffer(bad);
    Ipv6HeaderChain chain = new Ipv6HeaderChain();
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, bad.length - ETH));
    assertFalse(Ipv6Header.verifyUpperLayer(b, ETH, ETH + 40, 16, Ipv6Header.NEXT_HEADER_ICMPV6));
    byte[] longer =
        PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
            .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
            .payloadLength(100)
            .udp(1, 2)
            .build();
    assertEquals(
        Ipv6HeaderChain.BAD_PAYLOAD_LENGTH,
        chain.walk(new UnsafeBuffer(longer), ETH, longer.length - ETH));
    byte[] quoted = Arrays.copyOfRange(bad, ETH, bad.length);
    byte[] error =
        PacketBuilder.ethernet(ROUTER_MAC, CLIENT_MAC)
            .ipv6("2001:2:0:1::1", "2001:2:0:1::10")
            .icmpv6Error(3, 0, 0, quoted)
            .build();
    UnsafeBuffer e = new UnsafeBuffer(error);
    assertTrue(
        Ipv6Header.verifyUpperLayer(
            e, ETH, ETH + 40, 8 + quoted.length, Ipv6Header.NEXT_HEADER_ICMPV6));
  }

  @Test
  void shouldRefuseSettersOfAnotherLayer() {
    assertThrows(
        IllegalStateException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv4("198.18.0.1", "198.18.0.2").hopLimit(3));
    assertThrows(
        IllegalStateException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv6("2001:2::1", "2001:2::2").ttl(3));
    assertThrows(
        IllegalStateException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv4("198.18.0.1", "198.18.0.2").icmpv6Echo(1, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> PacketBuilder.ethernet(1, 2).ipv6("2001:2::1", "2001:2::2").extensionHeader(6, 8));
  }
}
