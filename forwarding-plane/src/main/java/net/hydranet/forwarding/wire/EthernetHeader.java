package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Ethernet II header (IEEE 802.3), optionally with one 802.1Q tag.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination MAC (6)                        |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+       Source MAC (6)          +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  EtherType / TPID 0x8100      | (802.1Q only) PCP|DEI|VID     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  (802.1Q only) EtherType      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>MAC addresses are carried as the low 48 bits of a long, most significant byte first.
 */
public final class EthernetHeader {
  public static final int DESTINATION_OFFSET = 0;
  public static final int SOURCE_OFFSET = 6;
  public static final int TYPE_OFFSET = 12;
  public static final int VLAN_TCI_OFFSET = 14;
  public static final int VLAN_TYPE_OFFSET = 16;
  public static final int LENGTH = 14;
  public static final int VLAN_LENGTH = 18;

  public static final int TYPE_IPV4 = 0x0800;
  public static final int TYPE_ARP = 0x0806;
  public static final int TYPE_VLAN = 0x8100;
  public static final int TYPE_IPV6 = 0x86DD;

  public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

  private EthernetHeader() {}

  /** Reads a 48-bit MAC address at {@code index}. */
  public static long mac(DirectBuffer buffer, int index) {
    return ((buffer.getShort(index, ByteOrder.BIG_ENDIAN) & 0xFFFFL) << 32)
        | (buffer.getInt(index + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL);
  }

  /** Writes a 48-bit MAC address at {@code index}. */
  public static void mac(MutableDirectBuffer buffer, int index, long mac) {
    buffer.putShort(index, (short) (mac >>> 32), ByteOrder.BIG_ENDIAN);
    buffer.putInt(index + 2, (int) mac, ByteOrder.BIG_ENDIAN);
  }

  public static long destination(DirectBuffer buffer, int offset) {
    return mac(buffer, offset + DESTINATION_OFFSET);
  }

  public static long source(DirectBuffer buffer, int offset) {
    return mac(buffer, offset + SOURCE_OFFSET);
  }

  /** The outer EtherType or TPID. */
  public static int type(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** Writes an untagged header. */
  public static void write(
      MutableDirectBuffer buffer, int offset, long destination, long source, int type) {
    mac(buffer, offset + DESTINATION_OFFSET, destination);
    mac(buffer, offset + SOURCE_OFFSET, source);
    buffer.putShort(offset + TYPE_OFFSET, (short) type, ByteOrder.BIG_ENDIAN);
  }

  /** True for a group (multicast or broadcast) address: the I/G bit of the first octet. */
  public static boolean isGroup(long mac) {
    return ((mac >>> 40) & 1) != 0;
  }

  /** Parses "02:00:5e:10:00:01" into a long; throws {@link IllegalArgumentException}. */
  public static long parseMac(String text) {
    String[] parts = text.split("[:-]");
    if (parts.length != 6) {
      throw new IllegalArgumentException("not a MAC address: " + text);
    }
    long mac = 0;
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 2) {
        throw new IllegalArgumentException("not a MAC address: " + text);
      }
      try {
        mac = (mac << 8) | Integer.parseInt(part, 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a MAC address: " + text, e);
      }
    }
    return mac;
  }

  /** Formats a MAC address as six colon-separated hex octets. */
  public static String formatMac(long mac) {
    StringBuilder sb = new StringBuilder(17);
    for (int shift = 40; shift >= 0; shift -= 8) {
      if (sb.length() > 0) {
        sb.append(':');
      }
      int octet = (int) ((mac >>> shift) & 0xFF);
      sb.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
    }
    return sb.toString();
  }
}
