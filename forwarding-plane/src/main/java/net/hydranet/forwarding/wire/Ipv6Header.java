package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * IPv6 fixed header (RFC 8200 §3), as static accessors at an offset, with the upper-layer
 * pseudo-header checksum (RFC 8200 §8.1) and address helpers (RFC 4291, RFC 5952).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                  Source Address (128 bits)                    +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +               Destination Address (128 bits)                  +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>An address is carried as two longs in network order, the high 64 bits and the low 64 bits
 * (2001:2::10 is {@code high = 0x2001_0002_0000_0000L}, {@code low = 0x10L}), so nothing on the
 * data path allocates an array or an {@code InetAddress}. The fixed header has no checksum: the
 * hop-limit decrement needs no patch, and every upper layer covers the pseudo-header instead.
 */
public final class Ipv6Header {
  public static final int VERSION_CLASS_FLOW_OFFSET = 0;
  public static final int PAYLOAD_LENGTH_OFFSET = 4;
  public static final int NEXT_HEADER_OFFSET = 6;
  public static final int HOP_LIMIT_OFFSET = 7;
  public static final int SOURCE_OFFSET = 8;
  public static final int DESTINATION_OFFSET = 24;
  public static final int LENGTH = DESTINATION_OFFSET + 16;

  /** Every IPv6 link carries at least this many bytes in one piece (RFC 8200 §5). */
  public static final int MIN_MTU = 1280;

  public static final int NEXT_HEADER_HOP_BY_HOP = 0;
  public static final int NEXT_HEADER_TCP = 6;
  public static final int NEXT_HEADER_UDP = 17;
  public static final int NEXT_HEADER_IPV6 = 41;
  public static final int NEXT_HEADER_ROUTING = 43;
  public static final int NEXT_HEADER_FRAGMENT = 44;
  public static final int NEXT_HEADER_ESP = 50;
  public static final int NEXT_HEADER_AUTHENTICATION = 51;
  public static final int NEXT_HEADER_ICMPV6 = 58;
  public static final int NEXT_HEADER_NONE = 59;
  public static final int NEXT_HEADER_DESTINATION_OPTIONS = 60;

  private Ipv6Header() {}

  // ---- fixed header ----

  public static int version(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset) >>> 4) & 0xF;
  }

  public static int trafficClass(DirectBuffer buffer, int offset) {
    return (buffer.getShort(offset, ByteOrder.BIG_ENDIAN) >>> 4) & 0xFF;
  }

  public static int flowLabel(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset, ByteOrder.BIG_ENDIAN) & 0xF_FFFF;
  }

  /** Bytes after the fixed header, extension headers included (RFC 8200 §3). */
  public static int payloadLength(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + PAYLOAD_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static void payloadLength(MutableDirectBuffer buffer, int offset, int length) {
    buffer.putShort(offset + PAYLOAD_LENGTH_OFFSET, (short) length, ByteOrder.BIG_ENDIAN);
  }

  public static int nextHeader(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + NEXT_HEADER_OFFSET) & 0xFF;
  }

  public static void nextHeader(MutableDirectBuffer buffer, int offset, int nextHeader) {
    buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte) nextHeader);
  }

  public static int hopLimit(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + HOP_LIMIT_OFFSET) & 0xFF;
  }

  public static void hopLimit(MutableDirectBuffer buffer, int offset, int hopLimit) {
    buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte) hopLimit);
  }

  /**
   * Decrements the hop limit. No checksum to patch: the IPv6 header has none (RFC 8200 §3), and the
   * hop limit is not part of the upper-layer pseudo-header (§8.1).
   */
  public static void decrementHopLimit(MutableDirectBuffer buffer, int offset) {
    buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte) (hopLimit(buffer, offset) - 1));
  }

  public static long sourceHigh(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static long sourceLow(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + SOURCE_OFFSET + 8, ByteOrder.BIG_ENDIAN);
  }

  public static long destinationHigh(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static long destinationLow(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + DESTINATION_OFFSET + 8, ByteOrder.BIG_ENDIAN);
  }

  /** Writes a 128-bit address at {@code index}. */
  public static void address(MutableDirectBuffer buffer, int index, long high, long low) {
    buffer.putLong(index, high, ByteOrder.BIG_ENDIAN);
    buffer.putLong(index + 8, low, ByteOrder.BIG_ENDIAN);
  }

  /** Writes the 40-byte fixed header. */
  public static void write(
      MutableDirectBuffer buffer,
      int offset,
      int trafficClass,
      int flowLabel,
      int payloadLength,
      int nextHeader,
      int hopLimit,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow) {
    buffer.putInt(
        offset,
        (6 << 28) | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xF_FFFF),
        ByteOrder.BIG_ENDIAN);
    buffer.putShort(offset + PAYLOAD_LENGTH_OFFSET, (short) payloadLength, ByteOrder.BIG_ENDIAN);
    buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte) nextHeader);
    buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte) hopLimit);
    address(buffer, offset + SOURCE_OFFSET, sourceHigh, sourceLow);
    address(buffer, offset + DESTINATION_OFFSET, destinationHigh, destinationLow);
  }

  // ---- upper-layer checksum (RFC 8200 §8.1) ----

  /**
   * The unfolded sum of the pseudo-header: source, destination, the 32-bit upper-layer length and
   * the next-header value. RFC 8200 §8.1 takes the final destination when a routing header is
   * present; a router never rewrites a checksum of such a packet, and ours sends none, so the
   * destination field is the one used.
   */
  public static long pseudoHeaderSum(
      DirectBuffer buffer, int ipOffset, int upperLayerLength, int nextHeader) {
    // The 32 address bytes are contiguous: one 8-bytes-a-load pass over them.
    return InternetChecksum.sum(buffer, ipOffset + SOURCE_OFFSET, 32, 0)
        + (upperLayerLength & 0xFFFF_FFFFL)
        + (nextHeader & 0xFF);
  }

  /**
   * The checksum field value for an upper-layer message (TCP, UDP, ICMPv6) of {@code length} bytes
   * at {@code upperOffset}, whose checksum field must read zero.
   */
  public static int upperLayerChecksum(
      DirectBuffer buffer, int ipOffset, int upperOffset, int length, int nextHeader) {
    long sum =
        InternetChecksum.sum(
            buffer, upperOffset, length, pseudoHeaderSum(buffer, ipOffset, length, nextHeader));
    return ~InternetChecksum.fold(sum) & 0xFFFF;
  }

  /**
   * True when the upper-layer message, checksum field included, sums to 0xFFFF with its
   * pseudo-header. A zero UDP checksum is not valid over IPv6 (RFC 8200 §8.1) and fails here too,
   * unless the sum is in fact zero: 0x0000 is then sent as 0xFFFF, which this accepts.
   */
  public static boolean verifyUpperLayer(
      DirectBuffer buffer, int ipOffset, int upperOffset, int length, int nextHeader) {
    long sum =
        InternetChecksum.sum(
            buffer, upperOffset, length, pseudoHeaderSum(buffer, ipOffset, length, nextHeader));
    return InternetChecksum.fold(sum) == 0xFFFF;
  }

  /**
   * Computes and writes the checksum of a UDP datagram over IPv6. A result of zero is sent as
   * 0xFFFF (RFC 768, RFC 8200 §8.1): zero would mean "no checksum", which IPv6 forbids.
   */
  public static void updateUdpChecksum(
      MutableDirectBuffer buffer, int ipOffset, int udpOffset, int length) {
    buffer.putShort(udpOffset + UdpHeader.CHECKSUM_OFFSET, (short) 0);
    int checksum = upperLayerChecksum(buffer, ipOffset, udpOffset, length, NEXT_HEADER_UDP);
    buffer.putShort(
        udpOffset + UdpHeader.CHECKSUM_OFFSET,
        (short) (checksum == 0 ? 0xFFFF : checksum),
        ByteOrder.BIG_ENDIAN);
  }

  /** Computes and writes the checksum of a TCP segment over IPv6. */
  public static void updateTcpChecksum(
      MutableDirectBuffer buffer, int ipOffset, int tcpOffset, int length) {
    TcpHeader.checksum(buffer, tcpOffset, 0);
    TcpHeader.checksum(
        buffer,
        tcpOffset,
        upperLayerChecksum(buffer, ipOffset, tcpOffset, length, NEXT_HEADER_TCP));
  }

  // ---- address classes (RFC 4291 §2.4) ----

  public static boolean isUnspecified(long high, long low) {
    return high == 0 && low == 0;
  }

  public static boolean isLoopback(long high, long low) {
    return high == 0 && low == 1;
  }

  /** ff00::/8. */
  public static boolean isMulticast(long high) {
    return (high >>> 56) == 0xFF;
  }

  /** fe80::/10. */
  public static boolean isLinkLocal(long high) {
    return (high >>> 54) == (0xFE80L >>> 6);
  }

  /** The solicited-node multicast group of an address, ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
  public static long solicitedNodeHigh() {
    return 0xFF02_0000_0000_0000L;
  }

  /** The low half of the solicited-node multicast group of an address with this low half. */
  public static long solicitedNodeLow(long low) {
    return 0x0000_0001_FF00_0000L | (low & 0xFF_FFFFL);
  }

  /** The Ethernet group address an IPv6 multicast maps to: 33:33 and its low 32 bits (RFC 2464). */
  public static long multicastMac(long low) {
    return 0x3333_0000_0000L | (low & 0xFFFF_FFFFL);
  }

  // ---- text form, for configuration and display (allocates) ----

  /**
   * Parses an IPv6 address in any RFC 4291 §2.2 text form (with "::" and a trailing dotted IPv4
   * part) into {@code {high, low}}; throws {@link IllegalArgumentException}. No name lookup.
   */
  public static long[] parseAddress(String text) {
    String s = text.trim();
    if (s.isEmpty() || s.indexOf(':') < 0) {
      throw new IllegalArgumentException("not an IPv6 address: " + text);
    }
    int[] groups = new int[8];
    int count = 0;
    int gap = -1;
    int i = 0;
    if (s.startsWith("::")) {
      gap = 0;
      i = 2;
    } else if (s.startsWith(":")) {
      throw new IllegalArgumentException("not an IPv6 address: " + text);
    }
    while (i < s.length()) {
      int end = s.indexOf(':', i);
      String part = end < 0 ? s.substring(i) : s.substring(i, end);
      if (part.indexOf('.') >= 0) {
        if (end >= 0 || count > 6) {
          throw new IllegalArgumentException("not an IPv6 address: " + text);
        }
        int v4 = Ipv4Header.parseAddress(part);
        groups[count++] = v4 >>> 16;
        groups[count++] = v4 & 0xFFFF;
        i = s.length();
        break;
      }
      if (part.isEmpty() || part.length() > 4 || count == 8) {
        throw new IllegalArgumentException("not an IPv6 address: " + text);
      }
      try {
        groups[count++] = Integer.parseInt(part, 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an IPv6 address: " + text, e);
      }
      if (end < 0) {
        i = s.length();
      } else if (end + 1 < s.length() && s.charAt(end + 1) == ':') {
        if (gap >= 0) {
          throw new IllegalArgumentException("two '::' in an IPv6 address: " + text);
        }
        gap = count;
        i = end + 2;
      } else if (end + 1 == s.length()) {
        throw new IllegalArgumentException("not an IPv6 address: " + text);
      } else {
        i = end + 1;
      }
    }
    if (gap >= 0 ? count > 7 : count != 8) {
      throw new IllegalArgumentException("not an IPv6 address: " + text);
    }
    int[] full = new int[8];
    if (gap < 0) {
      full = groups;
    } else {
      System.arraycopy(groups, 0, full, 0, gap);
      System.arraycopy(groups, gap, full, 8 - (count - gap), count - gap);
    }
    long high = 0;
    long low = 0;
    for (int g = 0; g < 4; g++) {
      high = (high << 16) | full[g];
      low = (low << 16) | full[g + 4];
    }
    return new long[] {high, low};
  }

  /** Formats an address in the RFC 5952 canonical form (lower case, longest zero run as "::"). */
  public static String formatAddress(long high, long low) {
    int[] groups = new int[8];
    for (int g = 0; g < 4; g++) {
      groups[g] = (int) ((high >>> (48 - 16 * g)) & 0xFFFF);
      groups[g + 4] = (int) ((low >>> (48 - 16 * g)) & 0xFFFF);
    }
    // RFC 5952 §4.2: the longest run of two or more zero groups, the first if tied.
    int bestStart = -1;
    int bestLength = 1;
    for (int g = 0; g < 8; ) {
      if (groups[g] != 0) {
        g++;
        continue;
      }
      int start = g;
      while (g < 8 && groups[g] == 0) {
        g++;
      }
      if (g - start > bestLength) {
        bestStart = start;
        bestLength = g - start;
      }
    }
    StringBuilder sb = new StringBuilder(39);
    for (int g = 0; g < 8; g++) {
      if (g == bestStart) {
        sb.append("::");
        g += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[g]));
    }
    return sb.toString();
  }
}
