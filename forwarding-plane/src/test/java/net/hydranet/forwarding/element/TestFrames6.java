package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.CLIENT_IF_MAC;
import static net.hydranet.forwarding.element.TestFrames.CLIENT_MAC;
import static net.hydranet.forwarding.element.TestFrames.HEADROOM;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The IPv6 side of {@link TestFrames}' three-interface redirector, in 2001:2::/48 (RFC 5180):
 * client0 2001:2:0:0::1/64, core0 2001:2:0:1::1/64, hs0 2001:2:0:2::1/64; the origin 2001:2:1::80
 * behind the gateway 2001:2:0:1::2; the host server 2001:2:0:2::5 on hs0. Frames are written into a
 * slot through the flyweights.
 */
public final class TestFrames6 {
  public static final long NET = 0x2001_0002_0000_0000L;
  public static final long CLIENT_NET = NET;
  public static final long CORE_NET = NET | 1;
  public static final long HS_NET = NET | 2;
  public static final long ORIGIN_NET = 0x2001_0002_0001_0000L;

  public static final long CLIENT_IF_LOW = 1;
  public static final long CLIENT_LOW = 0x10;
  public static final long GATEWAY_LOW = 2;
  public static final long HOST_SERVER_LOW = 5;
  public static final long ORIGIN_LOW = 0x80;

  private TestFrames6() {}

  /** {@link TestFrames#context} with the IPv6 addresses and the origin's route added. */
  public static ForwardingContext context(int hostServerMtu) {
    return TestFrames.context(hostServerMtu)
        .addInterfaceAddress6("client0", CLIENT_NET, 1, 64)
        .addInterfaceAddress6("core0", CORE_NET, 1, 64)
        .addInterfaceAddress6("hs0", HS_NET, 1, 64)
        .flowCapacity6(1024);
  }

  /** The IPv6 header's offset in frames written here. */
  public static int ipOffset() {
    return HEADROOM + EthernetHeader.LENGTH;
  }

  /**
   * Ethernet (to {@code destinationMac}, from the client) and an IPv6 fixed header whose payload is
   * {@code payload} zero bytes of {@code nextHeader}.
   *
   * @return the frame's length
   */
  public static int ipv6(
      UnsafeBuffer slot,
      long destinationMac,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow,
      int nextHeader,
      int payload,
      int hopLimit) {
    EthernetHeader.write(slot, HEADROOM, destinationMac, CLIENT_MAC, EthernetHeader.TYPE_IPV6);
    int ip = ipOffset();
    slot.setMemory(ip + Ipv6Header.LENGTH, payload, (byte) 0);
    Ipv6Header.write(
        slot,
        ip,
        0,
        0,
        payload,
        nextHeader,
        hopLimit,
        sourceHigh,
        sourceLow,
        destinationHigh,
        destinationLow);
    return EthernetHeader.LENGTH + Ipv6Header.LENGTH + payload;
  }

  /**
   * A TCP segment from the client to {@code (high, low)} with a 20-byte header (24 with an MSS
   * option when {@code mss} > 0) and {@code payload} zero bytes, checksummed.
   */
  public static int tcp(
      UnsafeBuffer slot,
      long high,
      long low,
      int sourcePort,
      int port,
      int flags,
      int mss,
      int payload,
      int hopLimit) {
    int header = mss > 0 ? TcpHeader.MIN_LENGTH + 4 : TcpHeader.MIN_LENGTH;
    int length =
        ipv6(
            slot,
            CLIENT_IF_MAC,
            CLIENT_NET,
            CLIENT_LOW,
            high,
            low,
            Ipv6Header.NEXT_HEADER_TCP,
            header + payload,
            hopLimit);
    int tcp = ipOffset() + Ipv6Header.LENGTH;
    slot.putShort(tcp + TcpHeader.SOURCE_PORT_OFFSET, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(tcp + TcpHeader.DESTINATION_PORT_OFFSET, (short) port, ByteOrder.BIG_ENDIAN);
    slot.putByte(tcp + TcpHeader.DATA_OFFSET_OFFSET, (byte) ((header / 4) << 4));
    slot.putByte(tcp + TcpHeader.FLAGS_OFFSET, (byte) flags);
    if (mss > 0) {
      slot.putByte(tcp + 20, (byte) 2);
      slot.putByte(tcp + 21, (byte) 4);
      slot.putShort(tcp + 22, (short) mss, ByteOrder.BIG_ENDIAN);
    }
    Ipv6Header.updateTcpChecksum(slot, ipOffset(), tcp, header + payload);
    return length;
  }

  /** An ICMPv6 echo request from the client to {@code (high, low)}, checksummed. */
  public static int echo(UnsafeBuffer slot, long high, long low, int hopLimit) {
    int length =
        ipv6(
            slot,
            CLIENT_IF_MAC,
            CLIENT_NET,
            CLIENT_LOW,
            high,
            low,
            Ipv6Header.NEXT_HEADER_ICMPV6,
            Icmpv6Header.LENGTH + 4,
            hopLimit);
    int icmp = ipOffset() + Ipv6Header.LENGTH;
    Icmpv6Header.write(slot, icmp, Icmpv6Header.TYPE_ECHO_REQUEST, 0, 0x0001_0001);
    slot.putInt(icmp + Icmpv6Header.LENGTH, 0xCAFE_F00D, ByteOrder.BIG_ENDIAN);
    Icmpv6Header.updateChecksum(slot, ipOffset(), icmp, Icmpv6Header.LENGTH + 4);
    return length;
  }
}
