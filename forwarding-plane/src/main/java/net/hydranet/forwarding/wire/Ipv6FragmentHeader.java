package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * IPv6 fragment header (RFC 8200 §4.5): the only place IPv6 carries fragmentation, which only the
 * source does — a router never fragments (RFC 8200 §5) but must keep a fragment with its flow.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Identification                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv6FragmentHeader {
  public static final int NEXT_HEADER_OFFSET = 0;
  public static final int OFFSET_FLAGS_OFFSET = 2;
  public static final int IDENTIFICATION_OFFSET = 4;
  public static final int LENGTH = 8;

  public static final int FLAG_MORE = 0x0001;
  public static final int OFFSET_MASK = 0xFFF8;

  private Ipv6FragmentHeader() {}

  public static int nextHeader(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + NEXT_HEADER_OFFSET) & 0xFF;
  }

  /** The 16-bit word of the 13-bit offset, two reserved bits and the M flag. */
  public static int offsetFlags(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + OFFSET_FLAGS_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** Fragment offset in bytes (the field counts 8-octet units, already in place ×8). */
  public static int fragmentOffset(DirectBuffer buffer, int offset) {
    return offsetFlags(buffer, offset) & OFFSET_MASK;
  }

  public static boolean moreFragments(DirectBuffer buffer, int offset) {
    return (offsetFlags(buffer, offset) & FLAG_MORE) != 0;
  }

  /**
   * An atomic fragment (offset 0, M clear; RFC 6946): a whole packet in a fragment header, to be
   * handled as unfragmented.
   */
  public static boolean isAtomic(DirectBuffer buffer, int offset) {
    return (offsetFlags(buffer, offset) & (OFFSET_MASK | FLAG_MORE)) == 0;
  }

  public static int identification(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + IDENTIFICATION_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  /**
   * Writes a fragment header.
   *
   * @param fragmentOffsetBytes offset in bytes, a multiple of 8
   */
  public static void write(
      MutableDirectBuffer buffer,
      int offset,
      int nextHeader,
      int fragmentOffsetBytes,
      boolean more,
      int identification) {
    buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte) nextHeader);
    buffer.putByte(offset + 1, (byte) 0);
    buffer.putShort(
        offset + OFFSET_FLAGS_OFFSET,
        (short) ((fragmentOffsetBytes & OFFSET_MASK) | (more ? FLAG_MORE : 0)),
        ByteOrder.BIG_ENDIAN);
    buffer.putInt(offset + IDENTIFICATION_OFFSET, identification, ByteOrder.BIG_ENDIAN);
  }
}
