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

  /** Returned by {@link #ipv6Offset} when the frame carries no IPv6 packet. */
  public static final int NOT_IPV6 = -1;

  /** IPv6 in IPv4 (RFC 4213) or in IPv6 (RFC 2473). */
  private static final int PROTOCOL_IPV6 = 41;

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

  /**
   * Offset of the IPv6 header behind an untagged or one-tag 802.1Q header, or {@link #NOT_IPV6}.
   */
  public static int ipv6Offset(byte[] frame) {
    if (frame.length < EthernetHeader.LENGTH) {
      return NOT_IPV6;
    }
    int type = ((frame[12] & 0xFF) << 8) | (frame[13] & 0xFF);
    int offset = EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      if (frame.length < EthernetHeader.VLAN_LENGTH) {
        return NOT_IPV6;
      }
      type = ((frame[16] & 0xFF) << 8) | (frame[17] & 0xFF);
      offset = EthernetHeader.VLAN_LENGTH;
    }
    return type == EthernetHeader.TYPE_IPV6 ? offset : NOT_IPV6;
  }

  /**
   * Where the extension headers of an IPv6 packet end, read here byte by byte and not with the
   * router's {@code Ipv6HeaderChain}, so that tests check the router against a second reading.
   *
   * @param upper offset of the upper-layer header, or of the fragment data of a non-first fragment
   * @param protocol the next-header value that ended the walk
   * @param fragmentOffset the fragment header's offset field in bytes, or -1 without one
   * @param moreFragments the fragment header's M flag
   * @param end the packet's end (fixed header plus payload length)
   */
  public record Ipv6Walk(
      int upper, int protocol, int fragmentOffset, boolean moreFragments, int end) {
    /** A fragment header that is not atomic: the upper layer's checksum covers other packets. */
    public boolean isFragmented() {
      return fragmentOffset > 0 || moreFragments;
    }
  }

  /**
   * Walks the IPv6 packet at {@code ip} (RFC 8200 §4: hop-by-hop 0, routing 43, fragment 44,
   * destination options 60, authentication 51 in 4-octet units) up to {@code limit}; null when it
   * is not a whole IPv6 packet: fewer than 40 bytes, version not 6, a payload length beyond {@code
   * limit}, or an extension header running past the payload. Order and repetition are not judged.
   */
  public static Ipv6Walk walkIpv6(byte[] b, int ip, int limit) {
    if (ip < 0 || limit - ip < 40 || (b[ip] & 0xF0) != 0x60) {
      return null;
    }
    int end = ip + 40 + (((b[ip + 4] & 0xFF) << 8) | (b[ip + 5] & 0xFF));
    if (end > limit) {
      return null;
    }
    int next = b[ip + 6] & 0xFF;
    int at = ip + 40;
    int fragmentOffset = -1;
    boolean more = false;
    while (next == 0 || next == 43 || next == 44 || next == 51 || next == 60) {
      if (at + 8 > end) {
        return null;
      }
      int length =
          next == 44 ? 8 : next == 51 ? ((b[at + 1] & 0xFF) + 2) * 4 : ((b[at + 1] & 0xFF) + 1) * 8;
      if (at + length > end) {
        return null;
      }
      int header = next;
      next = b[at] & 0xFF;
      if (header == 44) {
        fragmentOffset = ((b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xF8)) & 0xFFF8;
        more = (b[at + 3] & 1) != 0;
        if (fragmentOffset != 0) {
          return new Ipv6Walk(at + length, next, fragmentOffset, more, end);
        }
      }
      at += length;
    }
    return new Ipv6Walk(at, next, fragmentOffset, more, end);
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
   * do not hold. IPv6 likewise: the TCP, UDP (zero is not allowed: RFC 8200 §8.1) or ICMPv6
   * checksum over the IPv6 pseudo-header, behind any extension headers, and a packet tunnelled in
   * IPv4 or IPv6 (protocol 41) in turn. A frame that is neither (ARP) has no checksum and is valid.
   */
  public static boolean checksumsValid(byte[] frame) {
    int ip = ipv4Offset(frame);
    if (ip != NOT_IPV4) {
      return datagramValid(new UnsafeBuffer(frame), ip, frame.length, 2);
    }
    int ip6 = ipv6Offset(frame);
    if (ip6 != NOT_IPV6) {
      return packet6Valid(frame, ip6, frame.length, false, 2);
    }
    return true;
  }

  /**
   * The IPv6 packet at {@code ip} is whole and its upper-layer checksum verifies; {@code exact}: it
   * ends exactly at {@code limit} (a tunnelled packet), else Ethernet padding may follow.
   */
  private static boolean packet6Valid(byte[] b, int ip, int limit, boolean exact, int depth) {
    Ipv6Walk walk = walkIpv6(b, ip, limit);
    if (walk == null || (exact && walk.end() != limit)) {
      return false;
    }
    if (walk.isFragmented()) {
      return true;
    }
    int length = walk.end() - walk.upper();
    return switch (walk.protocol()) {
      case Ipv4Header.PROTOCOL_TCP -> length >= 20 && pseudoHeader6Valid(b, ip, walk);
      case Ipv4Header.PROTOCOL_UDP ->
          length >= UdpHeader.LENGTH
              && (b[walk.upper() + 6] != 0 || b[walk.upper() + 7] != 0)
              && pseudoHeader6Valid(b, ip, walk);
      case 58 -> length >= 4 && pseudoHeader6Valid(b, ip, walk);
      case PROTOCOL_IPV6 -> depth > 0 && packet6Valid(b, walk.upper(), walk.end(), true, depth - 1);
      default -> true;
    };
  }

  /** RFC 8200 §8.1: source, destination, upper-layer length, next header. */
  private static boolean pseudoHeader6Valid(byte[] b, int ip, Ipv6Walk walk) {
    long sum = 0;
    for (int i = ip + 8; i < ip + 40; i += 2) {
      sum += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
    }
    int length = walk.end() - walk.upper();
    sum += (length >>> 16) + (length & 0xFFFF) + walk.protocol();
    for (int i = walk.upper(); i < walk.end(); i += 2) {
      sum += ((b[i] & 0xFF) << 8) | (i + 1 < walk.end() ? b[i + 1] & 0xFF : 0);
    }
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xFFFF) + (sum >>> 16);
    }
    return sum == 0xFFFF;
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
      case PROTOCOL_IPV6 ->
          depth > 0 && packet6Valid(buffer.byteArray(), l4, l4 + l4Length, true, depth - 1);
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
