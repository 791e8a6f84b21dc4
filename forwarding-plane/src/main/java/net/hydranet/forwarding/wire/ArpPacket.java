package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * ARP for IPv4 over Ethernet (RFC 826): the only hardware/protocol pair a router here speaks.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Hardware type (1)      |     Protocol type (0x0800)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  HLEN (6)     |   PLEN (4)    |          Operation            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Sender hardware address (6)                   |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               | Sender protocol address (4)   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ Target hardware address (6)  +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Target protocol address (4)                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class ArpPacket {
  public static final int HARDWARE_TYPE_OFFSET = 0;
  public static final int PROTOCOL_TYPE_OFFSET = 2;
  public static final int HARDWARE_LENGTH_OFFSET = 4;
  public static final int PROTOCOL_LENGTH_OFFSET = 5;
  public static final int OPERATION_OFFSET = 6;
  public static final int SENDER_MAC_OFFSET = 8;
  public static final int SENDER_IP_OFFSET = 14;
  public static final int TARGET_MAC_OFFSET = 18;
  public static final int TARGET_IP_OFFSET = 24;
  public static final int LENGTH = 28;

  public static final int OPERATION_REQUEST = 1;
  public static final int OPERATION_REPLY = 2;

  private ArpPacket() {}

  /** True for Ethernet/IPv4 ARP with the lengths that pair implies. */
  public static boolean isEthernetIpv4(DirectBuffer buffer, int offset) {
    return (buffer.getShort(offset + HARDWARE_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 1
        && (buffer.getShort(offset + PROTOCOL_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF)
            == EthernetHeader.TYPE_IPV4
        && buffer.getByte(offset + HARDWARE_LENGTH_OFFSET) == 6
        && buffer.getByte(offset + PROTOCOL_LENGTH_OFFSET) == 4;
  }

  public static int operation(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + OPERATION_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static long senderMac(DirectBuffer buffer, int offset) {
    return EthernetHeader.mac(buffer, offset + SENDER_MAC_OFFSET);
  }

  public static int senderIp(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + SENDER_IP_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static long targetMac(DirectBuffer buffer, int offset) {
    return EthernetHeader.mac(buffer, offset + TARGET_MAC_OFFSET);
  }

  public static int targetIp(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + TARGET_IP_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  /** Writes a whole Ethernet/IPv4 ARP message. */
  public static void write(
      MutableDirectBuffer buffer,
      int offset,
      int operation,
      long senderMac,
      int senderIp,
      long targetMac,
      int targetIp) {
    buffer.putShort(offset + HARDWARE_TYPE_OFFSET, (short) 1, ByteOrder.BIG_ENDIAN);
    buffer.putShort(
        offset + PROTOCOL_TYPE_OFFSET, (short) EthernetHeader.TYPE_IPV4, ByteOrder.BIG_ENDIAN);
    buffer.putByte(offset + HARDWARE_LENGTH_OFFSET, (byte) 6);
    buffer.putByte(offset + PROTOCOL_LENGTH_OFFSET, (byte) 4);
    buffer.putShort(offset + OPERATION_OFFSET, (short) operation, ByteOrder.BIG_ENDIAN);
    EthernetHeader.mac(buffer, offset + SENDER_MAC_OFFSET, senderMac);
    buffer.putInt(offset + SENDER_IP_OFFSET, senderIp, ByteOrder.BIG_ENDIAN);
    EthernetHeader.mac(buffer, offset + TARGET_MAC_OFFSET, targetMac);
    buffer.putInt(offset + TARGET_IP_OFFSET, targetIp, ByteOrder.BIG_ENDIAN);
  }
}
