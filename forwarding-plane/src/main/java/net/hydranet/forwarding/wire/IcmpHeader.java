package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * ICMP header (RFC 792), with the next-hop MTU of fragmentation-needed (RFC 1191 §4).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   (echo) Identifier / (frag-needed) unused |  Sequence / MTU  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Internet header + leading octets of the original datagram |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class IcmpHeader {
  public static final int TYPE_OFFSET = 0;
  public static final int CODE_OFFSET = 1;
  public static final int CHECKSUM_OFFSET = 2;
  public static final int REST_OFFSET = 4;
  public static final int NEXT_HOP_MTU_OFFSET = 6;
  public static final int LENGTH = 8;

  public static final int TYPE_ECHO_REPLY = 0;
  public static final int TYPE_DESTINATION_UNREACHABLE = 3;
  public static final int TYPE_ECHO_REQUEST = 8;
  public static final int TYPE_TIME_EXCEEDED = 11;
  public static final int TYPE_PARAMETER_PROBLEM = 12;

  public static final int CODE_NET_UNREACHABLE = 0;
  public static final int CODE_HOST_UNREACHABLE = 1;
  public static final int CODE_FRAGMENTATION_NEEDED = 4;
  public static final int CODE_TTL_EXCEEDED = 0;

  private IcmpHeader() {}

  public static int type(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
  }

  public static int code(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + CODE_OFFSET) & 0xFF;
  }

  public static int nextHopMtu(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + NEXT_HOP_MTU_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** True for the error types whose body quotes an offending datagram. */
  public static boolean isError(int type) {
    return type == TYPE_DESTINATION_UNREACHABLE
        || type == TYPE_TIME_EXCEEDED
        || type == TYPE_PARAMETER_PROBLEM
        || type == 4 /* source quench */
        || type == 5 /* redirect */;
  }

  /** Writes type, code and the 32-bit rest-of-header word; the checksum is left zero. */
  public static void write(MutableDirectBuffer buffer, int offset, int type, int code, int rest) {
    buffer.putByte(offset + TYPE_OFFSET, (byte) type);
    buffer.putByte(offset + CODE_OFFSET, (byte) code);
    buffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
    buffer.putInt(offset + REST_OFFSET, rest, ByteOrder.BIG_ENDIAN);
  }

  /** Computes the checksum over the whole ICMP message of {@code length} bytes. */
  public static void updateChecksum(MutableDirectBuffer buffer, int offset, int length) {
    buffer.putShort(offset + CHECKSUM_OFFSET, (short) 0);
    buffer.putShort(
        offset + CHECKSUM_OFFSET,
        (short) InternetChecksum.checksum(buffer, offset, length),
        ByteOrder.BIG_ENDIAN);
  }
}
