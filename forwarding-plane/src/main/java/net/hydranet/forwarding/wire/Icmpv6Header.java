package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * ICMPv6 header (RFC 4443 §2.1), its checksum over the IPv6 pseudo-header (§2.3), and the error
 * messages a router sends (§3), built in place with the invoking packet quoted up to the minimum
 * MTU (§2.4 (c)).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | (echo) Identifier | Sequence / (too big) MTU / (param) Pointer |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   (errors) as much of the invoking packet as fits in 1280     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Icmpv6Header {
  public static final int TYPE_OFFSET = 0;
  public static final int CODE_OFFSET = 1;
  public static final int CHECKSUM_OFFSET = 2;
  public static final int REST_OFFSET = 4;
  public static final int IDENTIFIER_OFFSET = 4;
  public static final int SEQUENCE_OFFSET = 6;
  public static final int LENGTH = 8;

  public static final int TYPE_DESTINATION_UNREACHABLE = 1;
  public static final int TYPE_PACKET_TOO_BIG = 2;
  public static final int TYPE_TIME_EXCEEDED = 3;
  public static final int TYPE_PARAMETER_PROBLEM = 4;
  public static final int TYPE_ECHO_REQUEST = 128;
  public static final int TYPE_ECHO_REPLY = 129;
  public static final int TYPE_ROUTER_SOLICITATION = 133;
  public static final int TYPE_ROUTER_ADVERTISEMENT = 134;
  public static final int TYPE_NEIGHBOUR_SOLICITATION = 135;
  public static final int TYPE_NEIGHBOUR_ADVERTISEMENT = 136;
  public static final int TYPE_REDIRECT = 137;

  /** Destination unreachable codes (RFC 4443 §3.1). */
  public static final int CODE_NO_ROUTE = 0;

  public static final int CODE_ADMINISTRATIVELY_PROHIBITED = 1;
  public static final int CODE_BEYOND_SCOPE = 2;
  public static final int CODE_ADDRESS_UNREACHABLE = 3;
  public static final int CODE_PORT_UNREACHABLE = 4;

  /** Time exceeded codes (§3.3). */
  public static final int CODE_HOP_LIMIT_EXCEEDED = 0;

  public static final int CODE_REASSEMBLY_TIME_EXCEEDED = 1;

  /** Parameter problem codes (§3.4). */
  public static final int CODE_ERRONEOUS_HEADER_FIELD = 0;

  public static final int CODE_UNRECOGNIZED_NEXT_HEADER = 1;
  public static final int CODE_UNRECOGNIZED_OPTION = 2;

  /** The largest error message: the minimum MTU, fixed header included (§2.4 (c)). */
  public static final int MAX_ERROR_PACKET = Ipv6Header.MIN_MTU;

  private Icmpv6Header() {}

  public static int type(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
  }

  public static int code(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + CODE_OFFSET) & 0xFF;
  }

  public static int checksum(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /**
   * The 32-bit word after the checksum: the MTU of a Packet Too Big, a Parameter Problem's pointer.
   */
  public static int rest(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + REST_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static int identifier(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + IDENTIFIER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int sequence(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** Error messages have types 0 to 127, informational ones 128 to 255 (§2.1). */
  public static boolean isError(int type) {
    return type < 128;
  }

  /** Writes type, code and the 32-bit rest-of-header word; the checksum is left zero. */
  public static void write(MutableDirectBuffer buffer, int offset, int type, int code, int rest) {
    buffer.putByte(offset + TYPE_OFFSET, (byte) type);
    buffer.putByte(offset + CODE_OFFSET, (byte) code);
    buffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
    buffer.putInt(offset + REST_OFFSET, rest, ByteOrder.BIG_ENDIAN);
  }

  /**
   * Computes the checksum of the ICMPv6 message of {@code length} bytes at {@code icmpOffset}, in
   * the IPv6 packet at {@code ipOffset}. Unlike ICMP for IPv4 it covers the pseudo-header (§2.3).
   */
  public static void updateChecksum(
      MutableDirectBuffer buffer, int ipOffset, int icmpOffset, int length) {
    buffer.putShort(icmpOffset + CHECKSUM_OFFSET, (short) 0);
    buffer.putShort(
        icmpOffset + CHECKSUM_OFFSET,
        (short)
            Ipv6Header.upperLayerChecksum(
                buffer, ipOffset, icmpOffset, length, Ipv6Header.NEXT_HEADER_ICMPV6),
        ByteOrder.BIG_ENDIAN);
  }

  public static boolean verifyChecksum(
      DirectBuffer buffer, int ipOffset, int icmpOffset, int length) {
    return Ipv6Header.verifyUpperLayer(
        buffer, ipOffset, icmpOffset, length, Ipv6Header.NEXT_HEADER_ICMPV6);
  }

  /**
   * True when RFC 4443 §2.4 (e) allows an error of this type and code about the invoking packet at
   * {@code ipOffset}: not about an ICMPv6 error or a redirect, not to a source that names no single
   * node (unspecified, multicast), and to a multicast destination only a Packet Too Big or a
   * Parameter Problem about an unrecognized option. Rate limiting (§2.4 (f)) is the caller's.
   *
   * @param invokingIsErrorOrRedirect the invoking packet's upper layer is an ICMPv6 error or
   *     redirect (see {@link #isErrorOrRedirect})
   */
  public static boolean mayReplyTo(
      DirectBuffer buffer, int ipOffset, int type, int code, boolean invokingIsErrorOrRedirect) {
    if (invokingIsErrorOrRedirect) {
      return false;
    }
    long sourceHigh = Ipv6Header.sourceHigh(buffer, ipOffset);
    long sourceLow = Ipv6Header.sourceLow(buffer, ipOffset);
    if (Ipv6Header.isUnspecified(sourceHigh, sourceLow) || Ipv6Header.isMulticast(sourceHigh)) {
      return false;
    }
    if (Ipv6Header.isMulticast(Ipv6Header.destinationHigh(buffer, ipOffset))) {
      return type == TYPE_PACKET_TOO_BIG
          || (type == TYPE_PARAMETER_PROBLEM && code == CODE_UNRECOGNIZED_OPTION);
    }
    return true;
  }

  /**
   * True when a walked packet carries an ICMPv6 error or redirect message (its first byte is in
   * this packet): no error may answer it (§2.4 (e.1), (e.2)).
   */
  public static boolean isErrorOrRedirect(DirectBuffer buffer, Ipv6HeaderChain chain) {
    if (chain.upperLayerProtocol() != Ipv6Header.NEXT_HEADER_ICMPV6
        || !chain.hasUpperLayerHeader(buffer)
        || chain.upperLayerLength() < 1) {
      return false;
    }
    int type = type(buffer, chain.upperLayerOffset());
    return isError(type) || type == TYPE_REDIRECT;
  }

  /**
   * Writes a whole IPv6 packet carrying an ICMPv6 error about the invoking packet: the fixed header
   * (from {@code source} to the invoking packet's source), the ICMPv6 header and as much of the
   * invoking packet as keeps the whole within {@link #MAX_ERROR_PACKET} bytes (§2.4 (c)).
   *
   * <p>The quote is copied first, with memmove semantics, and the invoking source read before
   * anything is written, so the error may be built in place: with the invoking packet at {@code
   * ipOffset + 48} in the same buffer the quote does not move at all.
   *
   * @param rest the MTU of a Packet Too Big, the pointer of a Parameter Problem, else 0
   * @param invokingLength the invoking packet's bytes (its payload end, not the frame's padding)
   * @return the length of the packet written, fixed header included
   */
  public static int writeError(
      MutableDirectBuffer buffer,
      int ipOffset,
      int type,
      int code,
      int rest,
      int hopLimit,
      int flowLabel,
      long sourceHigh,
      long sourceLow,
      DirectBuffer invoking,
      int invokingOffset,
      int invokingLength) {
    final long destinationHigh = Ipv6Header.sourceHigh(invoking, invokingOffset);
    final long destinationLow = Ipv6Header.sourceLow(invoking, invokingOffset);
    final int quoted = Math.min(invokingLength, MAX_ERROR_PACKET - Ipv6Header.LENGTH - LENGTH);
    final int icmpOffset = ipOffset + Ipv6Header.LENGTH;
    buffer.putBytes(icmpOffset + LENGTH, invoking, invokingOffset, quoted);
    final int icmpLength = LENGTH + quoted;
    Ipv6Header.write(
        buffer,
        ipOffset,
        0,
        flowLabel,
        icmpLength,
        Ipv6Header.NEXT_HEADER_ICMPV6,
        hopLimit,
        sourceHigh,
        sourceLow,
        destinationHigh,
        destinationLow);
    write(buffer, icmpOffset, type, code, rest);
    updateChecksum(buffer, ipOffset, icmpOffset, icmpLength);
    return Ipv6Header.LENGTH + icmpLength;
  }
}
