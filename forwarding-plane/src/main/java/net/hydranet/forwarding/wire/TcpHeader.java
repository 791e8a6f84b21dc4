package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * TCP header (RFC 9293 §3.1) with the option walk needed for MSS clamping (RFC 9293 §3.7.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class TcpHeader {
  public static final int SOURCE_PORT_OFFSET = 0;
  public static final int DESTINATION_PORT_OFFSET = 2;
  public static final int SEQUENCE_OFFSET = 4;
  public static final int ACK_OFFSET = 8;
  public static final int DATA_OFFSET_OFFSET = 12;
  public static final int FLAGS_OFFSET = 13;
  public static final int WINDOW_OFFSET = 14;
  public static final int CHECKSUM_OFFSET = 16;
  public static final int URGENT_OFFSET = 18;
  public static final int MIN_LENGTH = 20;

  public static final int FLAG_FIN = 0x01;
  public static final int FLAG_SYN = 0x02;
  public static final int FLAG_RST = 0x04;
  public static final int FLAG_ACK = 0x10;

  public static final int OPTION_END = 0;
  public static final int OPTION_NOP = 1;
  public static final int OPTION_MSS = 2;

  /** Returned by {@link #mssOptionOffset} when there is no well-formed MSS option. */
  public static final int NO_OPTION = -1;

  private TcpHeader() {}

  public static int sourcePort(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + SOURCE_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int destinationPort(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + DESTINATION_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** Header length in bytes (data offset × 4). */
  public static int headerLength(DirectBuffer buffer, int offset) {
    return ((buffer.getByte(offset + DATA_OFFSET_OFFSET) >>> 4) & 0xF) << 2;
  }

  public static int flags(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
  }

  public static int checksum(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static void checksum(MutableDirectBuffer buffer, int offset, int value) {
    buffer.putShort(offset + CHECKSUM_OFFSET, (short) value, ByteOrder.BIG_ENDIAN);
  }

  /**
   * Finds the MSS option's kind byte within a header of {@code headerLength} bytes, or {@link
   * #NO_OPTION}. A malformed option list (a length under 2 or running past the header) ends the
   * walk: we never read outside the header.
   */
  public static int mssOptionOffset(DirectBuffer buffer, int offset, int headerLength) {
    int i = offset + MIN_LENGTH;
    int end = offset + headerLength;
    while (i < end) {
      int kind = buffer.getByte(i) & 0xFF;
      if (kind == OPTION_END) {
        return NO_OPTION;
      }
      if (kind == OPTION_NOP) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        return NO_OPTION;
      }
      int length = buffer.getByte(i + 1) & 0xFF;
      if (length < 2 || i + length > end) {
        return NO_OPTION;
      }
      if (kind == OPTION_MSS) {
        return length == 4 ? i : NO_OPTION;
      }
      i += length;
    }
    return NO_OPTION;
  }
}
