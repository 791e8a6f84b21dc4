package net.hydranet.forwarding.element;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A three-interface redirector for the element tests, and frames written into a slot through the
 * flyweights: client0 (the clients' side), core0 (towards the origin, through a gateway) and hs0
 * (the host server, on link).
 */
public final class TestFrames {
  public static final int HEADROOM = 64;

  public static final int CLIENT_IF = 0;
  public static final int CORE_IF = 1;
  public static final int HS_IF = 2;

  public static final long CLIENT_IF_MAC = 0x02_00_00_00_00_01L;
  public static final long CORE_IF_MAC = 0x02_00_00_00_00_02L;
  public static final long HS_IF_MAC = 0x02_00_00_00_00_03L;

  public static final int CLIENT_IF_IP = ip(198, 18, 0, 1);
  public static final int CORE_IF_IP = ip(198, 18, 1, 1);
  public static final int HS_IF_IP = ip(198, 18, 2, 1);

  public static final int CLIENT = ip(198, 18, 0, 10);
  public static final long CLIENT_MAC = 0x02_00_00_00_00_10L;
  public static final int GATEWAY = ip(198, 18, 1, 2);
  public static final long GATEWAY_MAC = 0x02_00_00_00_00_20L;
  public static final int HOST_SERVER = ip(198, 18, 2, 5);
  public static final long HOST_SERVER_MAC = 0x02_00_00_00_00_30L;

  /** The origin, behind the gateway: port 80 is the redirected service, 8080 is not. */
  public static final int ORIGIN = ip(198, 19, 0, 80);

  public static final int HTTP = 80;

  private TestFrames() {}

  public static int ip(int a, int b, int c, int d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }

  /** The topology above, with hs0's MTU as given (its clamp and DF rules follow the context). */
  public static ForwardingContext context(int hostServerMtu) {
    return new ForwardingContext()
        .addInterface("client0", CLIENT_IF_MAC, CLIENT_IF_IP, 24, 1500)
        .addInterface("core0", CORE_IF_MAC, CORE_IF_IP, 24, 1500)
        .addInterface("hs0", HS_IF_MAC, HS_IF_IP, 24, hostServerMtu)
        .flowCapacity(1024);
  }

  /** A ring-like slot: headroom for an outer header, then room for a jumbo frame. */
  public static UnsafeBuffer slot() {
    return new UnsafeBuffer(BufferUtil.allocateDirectAligned(HEADROOM + 9_100, 64));
  }

  /**
   * Writes Ethernet (to {@code destinationMac}, from the client) and an IPv4 header with {@code
   * l4Length} zero bytes after it; the header's checksum is valid.
   *
   * @return the frame's length
   */
  public static int ipv4(
      UnsafeBuffer slot,
      long destinationMac,
      int source,
      int destination,
      int protocol,
      int l4Length,
      int ttl,
      int flagsFragment) {
    int frame = HEADROOM;
    EthernetHeader.write(slot, frame, destinationMac, CLIENT_MAC, EthernetHeader.TYPE_IPV4);
    int ip = frame + EthernetHeader.LENGTH;
    int total = Ipv4Header.MIN_LENGTH + l4Length;
    slot.setMemory(ip + Ipv4Header.MIN_LENGTH, l4Length, (byte) 0);
    Ipv4Header.write(slot, ip, 0, total, 0x1234, flagsFragment, ttl, protocol, source, destination);
    Ipv4Header.updateChecksum(slot, ip);
    return EthernetHeader.LENGTH + total;
  }

  /** A TCP segment from the client, with a 20-byte header and {@code payload} zero bytes. */
  public static int tcp(
      UnsafeBuffer slot, int destination, int sourcePort, int port, int flags, int payload) {
    int length =
        ipv4(
            slot,
            CLIENT_IF_MAC,
            CLIENT,
            destination,
            Ipv4Header.PROTOCOL_TCP,
            TcpHeader.MIN_LENGTH + payload,
            64,
            0);
    int tcp = HEADROOM + EthernetHeader.LENGTH + Ipv4Header.MIN_LENGTH;
    slot.putShort(tcp + TcpHeader.SOURCE_PORT_OFFSET, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    slot.putShort(tcp + TcpHeader.DESTINATION_PORT_OFFSET, (short) port, ByteOrder.BIG_ENDIAN);
    slot.putByte(tcp + TcpHeader.DATA_OFFSET_OFFSET, (byte) 0x50);
    slot.putByte(tcp + TcpHeader.FLAGS_OFFSET, (byte) flags);
    return length;
  }

  /** An ICMP echo request from the client to {@code destination}, checksummed. */
  public static int echo(UnsafeBuffer slot, int destination, int ttl) {
    int length =
        ipv4(
            slot,
            CLIENT_IF_MAC,
            CLIENT,
            destination,
            Ipv4Header.PROTOCOL_ICMP,
            IcmpHeader.LENGTH + 4,
            ttl,
            0);
    int icmp = HEADROOM + EthernetHeader.LENGTH + Ipv4Header.MIN_LENGTH;
    IcmpHeader.write(slot, icmp, IcmpHeader.TYPE_ECHO_REQUEST, 0, 0x0001_0001);
    IcmpHeader.updateChecksum(slot, icmp, IcmpHeader.LENGTH + 4);
    return length;
  }

  /** The offset of the IPv4 header the writers above put in the slot. */
  public static int ipOffset() {
    return HEADROOM + EthernetHeader.LENGTH;
  }

  /** Sets the DF flag of the datagram the writers put in the slot, keeping its checksum valid. */
  public static void setDontFragment(UnsafeBuffer slot) {
    Ipv4Header.flagsFragment(slot, ipOffset(), Ipv4Header.FLAG_DF);
    Ipv4Header.updateChecksum(slot, ipOffset());
  }
}
