package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The UDP and GUE headers of HydraNet's second-chance tunnel (hostserver/SECOND-CHANCE.md), which
 * is GLB's (github/glb-director, docs/development/gue-header.md): UDP, the GUE base header of
 * draft-ietf-intarea-gue (version 0, no control bit, proto/ctype 4 for an inner IPv4 datagram) and
 * a private-data hop list — the host servers to try next when this one holds no socket for the
 * flow.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Source port (flow hash)      |   Destination port (19523)    |  UDP
 * |             Length            |         Checksum (0)          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | 0 |0|  Hlen   | Proto/ctype 4 |           Flags (0)           |  GUE
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Private data type (0)       |  Next hop idx |   Hop count   |  hop list
 * |                             Hop 0                             |
 * |                              ...                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Offsets are from the UDP header. Hlen counts the 32-bit words after the GUE base header: the hop
 * list's, {@code 1 + hop count}.
 */
public final class GueHeader {
  /** GLB's port ("LB" + 1); the host server listens for it beside IP-in-IP. */
  public static final int PORT = 19523;

  public static final int UDP_LENGTH = UdpHeader.LENGTH;
  public static final int BASE_OFFSET = UDP_LENGTH;
  public static final int PROTO_OFFSET = BASE_OFFSET + 1;
  public static final int FLAGS_OFFSET = BASE_OFFSET + 2;
  public static final int PRIVATE_TYPE_OFFSET = BASE_OFFSET + 4;
  public static final int NEXT_HOP_OFFSET = PRIVATE_TYPE_OFFSET + 2;
  public static final int HOP_COUNT_OFFSET = PRIVATE_TYPE_OFFSET + 3;
  public static final int HOPS_OFFSET = PRIVATE_TYPE_OFFSET + 4;

  /** UDP, GUE base and an empty hop list. */
  public static final int MIN_LENGTH = HOPS_OFFSET;

  /**
   * Most hops a list may hold, ours or a sender's: bounds how often one packet is passed on (and so
   * what one forged packet can cost), and keeps the whole tunnel header (20 + 16 + 4 × 4 = 52
   * bytes) plus a new Ethernet header inside a ring slot's headroom in front of the inner datagram.
   */
  public static final int MAX_HOPS = 4;

  /** Largest header with {@link #MAX_HOPS} hops. */
  public static final int MAX_LENGTH = HOPS_OFFSET + 4 * MAX_HOPS;

  /** The lowest source port: the dynamic range (RFC 6335), with 14 bits of flow hash. */
  public static final int SOURCE_PORT_BASE = 0xC000;

  private GueHeader() {}

  /** Bytes of UDP, GUE and a hop list of {@code hops} hops. */
  public static int length(int hops) {
    return HOPS_OFFSET + 4 * hops;
  }

  /** The UDP source port for a flow: the same for every packet of it, spread for ECMP and RSS. */
  public static int sourcePort(int flowHash) {
    return SOURCE_PORT_BASE | ((flowHash ^ (flowHash >>> 16)) & 0x3FFF);
  }

  /**
   * Writes UDP (checksum 0: allowed over IPv4, RFC 768, as GLB sends it), the GUE base header and
   * the hop list {@code hops[0..count)} with next hop index 0, for {@code innerLength} bytes of
   * inner IPv4 datagram behind it.
   */
  public static void write(
      MutableDirectBuffer buffer,
      int offset,
      int sourcePort,
      int innerLength,
      int[] hops,
      int count) {
    int length = length(count);
    buffer.putShort(offset, (short) sourcePort, ByteOrder.BIG_ENDIAN);
    buffer.putShort(offset + 2, (short) PORT, ByteOrder.BIG_ENDIAN);
    buffer.putShort(offset + 4, (short) (length + innerLength), ByteOrder.BIG_ENDIAN);
    buffer.putShort(offset + 6, (short) 0, ByteOrder.BIG_ENDIAN);
    buffer.putByte(offset + BASE_OFFSET, (byte) (1 + count)); // version 0, C 0, hlen
    buffer.putByte(offset + PROTO_OFFSET, (byte) Ipv4Header.PROTOCOL_IPIP);
    buffer.putShort(offset + FLAGS_OFFSET, (short) 0, ByteOrder.BIG_ENDIAN);
    buffer.putShort(offset + PRIVATE_TYPE_OFFSET, (short) 0, ByteOrder.BIG_ENDIAN);
    buffer.putByte(offset + NEXT_HOP_OFFSET, (byte) 0);
    buffer.putByte(offset + HOP_COUNT_OFFSET, (byte) count);
    for (int i = 0; i < count; i++) {
      buffer.putInt(offset + HOPS_OFFSET + 4 * i, hops[i], ByteOrder.BIG_ENDIAN);
    }
  }

  /** GUE version (the top two bits of the base header). */
  public static int version(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset + BASE_OFFSET) & 0xC0) >>> 6;
  }

  /** The control bit. */
  public static boolean control(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset + BASE_OFFSET) & 0x20) != 0;
  }

  /** Words of optional fields and private data after the base header. */
  public static int headerWords(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + BASE_OFFSET) & 0x1F;
  }

  public static int proto(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + PROTO_OFFSET) & 0xFF;
  }

  public static int flags(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + FLAGS_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int privateType(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + PRIVATE_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int nextHop(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + NEXT_HOP_OFFSET) & 0xFF;
  }

  public static void nextHop(MutableDirectBuffer buffer, int offset, int value) {
    buffer.putByte(offset + NEXT_HOP_OFFSET, (byte) value);
  }

  public static int hopCount(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + HOP_COUNT_OFFSET) & 0xFF;
  }

  public static int hop(DirectBuffer buffer, int offset, int index) {
    return buffer.getInt(offset + HOPS_OFFSET + 4 * index, ByteOrder.BIG_ENDIAN);
  }

  /**
   * Where the inner datagram starts, if the UDP and GUE headers at {@code offset} are ours and
   * consistent within {@code available} bytes; else -1. Ours: destination port {@link #PORT}, a UDP
   * length equal to {@code available}, GUE version 0 without the control bit or flags, proto/ctype
   * 4, private data type 0, hlen = 1 + hop count, at most {@link #MAX_HOPS} hops and a next hop
   * index no larger than the hop count (GLB's checks, with our bound on the list).
   */
  public static int innerOffset(DirectBuffer buffer, int offset, int available) {
    if (available < MIN_LENGTH
        || UdpHeader.destinationPort(buffer, offset) != PORT
        || UdpHeader.length(buffer, offset) != available
        || (buffer.getByte(offset + BASE_OFFSET) & 0xE0) != 0
        || proto(buffer, offset) != Ipv4Header.PROTOCOL_IPIP
        || flags(buffer, offset) != 0
        || privateType(buffer, offset) != 0) {
      return -1;
    }
    int count = hopCount(buffer, offset);
    if (count > MAX_HOPS
        || headerWords(buffer, offset) != 1 + count
        || nextHop(buffer, offset) > count
        || length(count) > available) {
      return -1;
    }
    return offset + length(count);
  }
}
