package net.hydranet.harness.packet;

import java.nio.ByteOrder;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Read-only checks on built or captured frames that tests assert against. */
public final class Frames {
  /** Returned by {@link #ipv4Offset} when the frame carries no IPv4 datagram. */
  public static final int NOT_IPV4 = -1;

  private Frames() {}

  /**
   * Offset of the IPv4 header behind an untagged or one-tag 802.1Q header, or {@link #NOT_IPV4}.
   */
  public static int ipv4Offset(byte[] frame) {
    if (frame.length < EthernetHeader.LENGTH) {
      return NOT_IPV4;
    }
    UnsafeBuffer buffer = new UnsafeBuffer(frame);
    int type = EthernetHeader.type(buffer, 0);
    int offset = EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      if (frame.length < EthernetHeader.VLAN_LENGTH) {
        return NOT_IPV4;
      }
      type = buffer.getShort(EthernetHeader.VLAN_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      offset = EthernetHeader.VLAN_LENGTH;
    }
    return type == EthernetHeader.TYPE_IPV4 ? offset : NOT_IPV4;
  }

  /** True when the IPv4 header checksum of the frame's datagram verifies (RFC 1071). */
  public static boolean ipChecksumValid(byte[] frame) {
    int ip = ipv4Offset(frame);
    if (ip == NOT_IPV4) {
      return false;
    }
    UnsafeBuffer buffer = new UnsafeBuffer(frame);
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    return headerLength >= Ipv4Header.MIN_LENGTH
        && ip + headerLength <= frame.length
        && InternetChecksum.verify(buffer, ip, headerLength);
  }

  /**
   * True when every checksum in the frame verifies: the IPv4 header, then the TCP, UDP or ICMP
   * checksum (pseudo-header included for TCP and UDP), and for IP-in-IP the inner datagram's in
   * turn. Fragments verify their IP header only, since their transport checksum covers bytes they
   * do not hold. A frame that is not IPv4 (ARP) has no checksum and is valid.
   */
  public static boolean checksumsValid(byte[] frame) {
    int ip = ipv4Offset(frame);
    if (ip == NOT_IPV4) {
      return true;
    }
    return datagramValid(new UnsafeBuffer(frame), ip, frame.length, 2);
  }

  private static boolean datagramValid(DirectBuffer buffer, int ip, int limit, int depth) {
    if (ip + Ipv4Header.MIN_LENGTH > limit || Ipv4Header.version(buffer, ip) != 4) {
      return false;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int totalLength = Ipv4Header.totalLength(buffer, ip);
    if (headerLength < Ipv4Header.MIN_LENGTH
        || totalLength < headerLength
        || ip + totalLength > limit
        || !InternetChecksum.verify(buffer, ip, headerLength)) {
      return false;
    }
    if (Ipv4Header.isFragment(buffer, ip)) {
      return true;
    }
    int l4 = ip + headerLength;
    int l4Length = totalLength - headerLength;
    int protocol = Ipv4Header.protocol(buffer, ip);
    return switch (protocol) {
      case Ipv4Header.PROTOCOL_TCP ->
          l4Length >= 20 && pseudoHeaderValid(buffer, ip, protocol, l4, l4Length);
      case Ipv4Header.PROTOCOL_UDP ->
          l4Length >= UdpHeader.LENGTH
              && (UdpHeader.checksum(buffer, l4) == 0 // RFC 768: zero means not computed
                  || pseudoHeaderValid(buffer, ip, protocol, l4, l4Length));
      case Ipv4Header.PROTOCOL_ICMP ->
          l4Length >= 8 && InternetChecksum.verify(buffer, l4, l4Length);
      case Ipv4Header.PROTOCOL_IPIP ->
          depth > 0 && datagramValid(buffer, l4, l4 + l4Length, depth - 1);
      default -> true;
    };
  }

  private static boolean pseudoHeaderValid(
      DirectBuffer buffer, int ip, int protocol, int l4, int l4Length) {
    int src = Ipv4Header.source(buffer, ip);
    int dst = Ipv4Header.destination(buffer, ip);
    long pseudo =
        ((src >>> 16) & 0xFFFF)
            + (src & 0xFFFF)
            + ((dst >>> 16) & 0xFFFF)
            + (dst & 0xFFFF)
            + protocol
            + l4Length;
    return InternetChecksum.fold(InternetChecksum.sum(buffer, l4, l4Length, pseudo)) == 0xFFFF;
  }
}
