package net.hydranet.forwarding.wire;

import org.agrona.DirectBuffer;

/**
 * Checks an IPv6 fixed header and walks its extension headers (RFC 8200 §4) to the upper layer,
 * with a bounded walk: a reusable flyweight whose {@link #walk} returns a verdict and leaves what
 * it found in fields, allocating nothing.
 *
 * <p>Extension headers walked: hop-by-hop options (0), routing (43), fragment (44), destination
 * options (60) and authentication (51, RFC 4302, whose length counts 4-octet units). Any other
 * next-header value ends the walk as the upper layer (TCP, UDP, ICMPv6, ESP, no-next-header…).
 *
 * <pre>
 * generic extension header (hop-by-hop, routing, destination options; RFC 8200 §4.3, §4.4, §4.6)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |  (routing: Type, Segments Left)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .          (Hdr Ext Len + 1) × 8 octets in all                  .
 * </pre>
 *
 * <p><b>Why the walk is bounded.</b> Every header is at least 8 bytes and the walk stops at the end
 * of the payload, so it ends anyway; on top of that, RFC 8200 §4.1 allows hop-by-hop only first and
 * each header once, destination options twice, and we enforce it (a chain that breaks it is {@link
 * #MISORDERED} or {@link #REPEATED}), so no chain costs more than {@link #MAX_HEADERS} + 1 steps
 * however it is crafted.
 */
public final class Ipv6HeaderChain {
  /** The chain reaches an upper layer (or a non-first fragment); the fields below are set. */
  public static final int OK = 0;

  /** Fewer bytes than the fixed header, or an extension header running past the payload. */
  public static final int TRUNCATED = 1;

  /** The version field is not 6. */
  public static final int BAD_VERSION = 2;

  /**
   * The payload length claims more than the frame holds, or is zero with a payload present: the
   * jumbogram form (RFC 2675), which no Ethernet link carries.
   */
  public static final int BAD_PAYLOAD_LENGTH = 3;

  /** Hop-by-hop anywhere but first (RFC 8200 §4.1, §4.3: a receiver must not accept it). */
  public static final int MISORDERED = 4;

  /**
   * A header repeated more often than RFC 8200 §4.1 allows (each once, destination options twice):
   * how an endless or looping chain ends.
   */
  public static final int REPEATED = 5;

  /** The most extension headers a chain that passes may carry: HBH, DST, RH, FH, AH, DST. */
  public static final int MAX_HEADERS = 6;

  /** What {@link #fragmentHeaderOffset()} and the routing fields hold when there is none. */
  public static final int NONE = -1;

  private int upperLayerProtocol;
  private int upperLayerOffset;
  private int payloadEnd;
  private int fragmentHeaderOffset;
  private int routingHeaderOffset;
  private int headerCount;
  private int problemPointer;

  /**
   * Checks the fixed header at {@code ipOffset} and walks the chain.
   *
   * @param available bytes captured from {@code ipOffset} to the end of the frame (Ethernet may pad
   *     beyond the payload; the payload length decides where the packet ends)
   * @return {@link #OK} or one of the failure verdicts; after a failure the fields are undefined
   *     except {@link #problemPointer()}
   */
  public int walk(DirectBuffer buffer, int ipOffset, int available) {
    problemPointer = NONE;
    fragmentHeaderOffset = NONE;
    routingHeaderOffset = NONE;
    headerCount = 0;
    if (available < Ipv6Header.LENGTH) {
      return TRUNCATED;
    }
    if (Ipv6Header.version(buffer, ipOffset) != 6) {
      problemPointer = 0;
      return BAD_VERSION;
    }
    final int payloadLength = Ipv6Header.payloadLength(buffer, ipOffset);
    if (Ipv6Header.LENGTH + payloadLength > available) {
      problemPointer = Ipv6Header.PAYLOAD_LENGTH_OFFSET;
      return BAD_PAYLOAD_LENGTH;
    }
    final int end = ipOffset + Ipv6Header.LENGTH + payloadLength;
    payloadEnd = end;
    int next = Ipv6Header.nextHeader(buffer, ipOffset);
    int nextFieldPointer = Ipv6Header.NEXT_HEADER_OFFSET;
    if (payloadLength == 0 && next == Ipv6Header.NEXT_HEADER_HOP_BY_HOP) {
      // A hop-by-hop header with a zero payload length is a jumbogram (RFC 2675 §3).
      problemPointer = Ipv6Header.PAYLOAD_LENGTH_OFFSET;
      return BAD_PAYLOAD_LENGTH;
    }
    int at = ipOffset + Ipv6Header.LENGTH;
    int seen = 0; // one bit per header kind, destination options counted apart
    int destinationOptions = 0;
    while (true) {
      final int bit;
      switch (next) {
        case Ipv6Header.NEXT_HEADER_HOP_BY_HOP:
          if (headerCount != 0) {
            problemPointer = nextFieldPointer;
            return MISORDERED;
          }
          bit = 1;
          break;
        case Ipv6Header.NEXT_HEADER_ROUTING:
          bit = 2;
          break;
        case Ipv6Header.NEXT_HEADER_FRAGMENT:
          bit = 4;
          break;
        case Ipv6Header.NEXT_HEADER_AUTHENTICATION:
          bit = 8;
          break;
        case Ipv6Header.NEXT_HEADER_DESTINATION_OPTIONS:
          bit = 0;
          if (++destinationOptions > 2) {
            problemPointer = nextFieldPointer;
            return REPEATED;
          }
          break;
        default:
          upperLayerProtocol = next;
          upperLayerOffset = at;
          return OK;
      }
      if ((seen & bit) != 0) {
        problemPointer = nextFieldPointer;
        return REPEATED;
      }
      seen |= bit;
      if (at + 8 > end) {
        // The header named is not there at all: blame the field that names it (it may sit at
        // the very end of the packet, where no byte of it was captured).
        problemPointer = nextFieldPointer;
        return TRUNCATED;
      }
      headerCount++;
      final int length;
      if (next == Ipv6Header.NEXT_HEADER_FRAGMENT) {
        length = Ipv6FragmentHeader.LENGTH;
        fragmentHeaderOffset = at;
      } else if (next == Ipv6Header.NEXT_HEADER_AUTHENTICATION) {
        length = ((buffer.getByte(at + 1) & 0xFF) + 2) << 2;
      } else {
        length = ((buffer.getByte(at + 1) & 0xFF) + 1) << 3;
        if (next == Ipv6Header.NEXT_HEADER_ROUTING) {
          routingHeaderOffset = at;
        }
      }
      if (at + length > end) {
        problemPointer = at + 1 - ipOffset;
        return TRUNCATED;
      }
      nextFieldPointer = at - ipOffset;
      next = buffer.getByte(at) & 0xFF;
      if (fragmentHeaderOffset != at || Ipv6FragmentHeader.fragmentOffset(buffer, at) == 0) {
        at += length;
        continue;
      }
      // A non-first fragment: what follows is fragment data, not headers (RFC 8200 §4.5).
      upperLayerProtocol = next;
      upperLayerOffset = at + length;
      return OK;
    }
  }

  /** The next-header value that ended the walk: the upper-layer protocol. */
  public int upperLayerProtocol() {
    return upperLayerProtocol;
  }

  /** Absolute offset of the upper-layer header (of the fragment data in a non-first fragment). */
  public int upperLayerOffset() {
    return upperLayerOffset;
  }

  /** Upper-layer bytes in this packet: from {@link #upperLayerOffset()} to the payload's end. */
  public int upperLayerLength() {
    return payloadEnd - upperLayerOffset;
  }

  /** Absolute offset just past the packet (Ethernet padding excluded). */
  public int payloadEnd() {
    return payloadEnd;
  }

  /** Absolute offset of the fragment header, or {@link #NONE}. */
  public int fragmentHeaderOffset() {
    return fragmentHeaderOffset;
  }

  /** True when the packet is a fragment (it has a fragment header, even an atomic one). */
  public boolean isFragment() {
    return fragmentHeaderOffset != NONE;
  }

  /**
   * True when the upper-layer header is in this packet: no fragment header, or the first fragment.
   * Ports may be read only then.
   */
  public boolean hasUpperLayerHeader(DirectBuffer buffer) {
    return fragmentHeaderOffset == NONE
        || Ipv6FragmentHeader.fragmentOffset(buffer, fragmentHeaderOffset) == 0;
  }

  /** Absolute offset of the routing header, or {@link #NONE}. */
  public int routingHeaderOffset() {
    return routingHeaderOffset;
  }

  /** Extension headers walked. */
  public int headerCount() {
    return headerCount;
  }

  /**
   * After a failure, the offset from the start of the IPv6 header of the field at fault, for the
   * pointer of an ICMPv6 Parameter Problem (RFC 4443 §3.4); {@link #NONE} when there is none.
   */
  public int problemPointer() {
    return problemPointer;
  }

  /** A name for a verdict, for counters and test messages. */
  public static String verdictName(int verdict) {
    switch (verdict) {
      case OK:
        return "ok";
      case TRUNCATED:
        return "truncated";
      case BAD_VERSION:
        return "bad_version";
      case BAD_PAYLOAD_LENGTH:
        return "bad_payload_length";
      case MISORDERED:
        return "misordered";
      case REPEATED:
        return "repeated";
      default:
        return "unknown(" + verdict + ")";
    }
  }
}
