package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * IPv4 header (RFC 791 §3.1), as static accessors at an offset and as a flyweight.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>Addresses are ints in network order (198.18.0.1 is 0xC6120001).
 */
public final class Ipv4Header {
  public static final int VERSION_IHL_OFFSET = 0;
  public static final int TOS_OFFSET = 1;
  public static final int TOTAL_LENGTH_OFFSET = 2;
  public static final int ID_OFFSET = 4;
  public static final int FLAGS_FRAGMENT_OFFSET = 6;
  public static final int TTL_OFFSET = 8;
  public static final int PROTOCOL_OFFSET = 9;
  public static final int CHECKSUM_OFFSET = 10;
  public static final int SOURCE_OFFSET = 12;
  public static final int DESTINATION_OFFSET = 16;
  public static final int MIN_LENGTH = DESTINATION_OFFSET + 4;
  public static final int MAX_LENGTH = 60;

  public static final int FLAG_DF = 0x4000;
  public static final int FLAG_MF = 0x2000;
  public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

  public static final int PROTOCOL_ICMP = 1;
  public static final int PROTOCOL_IPIP = 4;
  public static final int PROTOCOL_TCP = 6;
  public static final int PROTOCOL_UDP = 17;

  private MutableDirectBuffer buffer;
  private int offset;

  /** Points this flyweight at a header. */
  public Ipv4Header wrap(MutableDirectBuffer buffer, int offset) {
    this.buffer = buffer;
    this.offset = offset;
    return this;
  }

  public int offset() {
    return offset;
  }

  public int version() {
    return version(buffer, offset);
  }

  public int headerLength() {
    return headerLength(buffer, offset);
  }

  public int totalLength() {
    return totalLength(buffer, offset);
  }

  public Ipv4Header totalLength(int length) {
    buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short) length, ByteOrder.BIG_ENDIAN);
    return this;
  }

  public int ttl() {
    return ttl(buffer, offset);
  }

  public int protocol() {
    return protocol(buffer, offset);
  }

  public int source() {
    return source(buffer, offset);
  }

  public int destination() {
    return destination(buffer, offset);
  }

  public int checksum() {
    return checksum(buffer, offset);
  }

  /** Recomputes the header checksum over the whole header, options included. */
  public Ipv4Header updateChecksum() {
    updateChecksum(buffer, offset);
    return this;
  }

  // ---- static accessors ----

  public static int version(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset) >>> 4) & 0xF;
  }

  /** Header length in bytes (IHL × 4). */
  public static int headerLength(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset) & 0xF) << 2;
  }

  public static int tos(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + TOS_OFFSET) & 0xFF;
  }

  public static int totalLength(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int id(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + ID_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  /** The 16-bit flags-and-fragment-offset word. */
  public static int flagsFragment(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static boolean dontFragment(DirectBuffer buffer, int offset) {
    return (flagsFragment(buffer, offset) & FLAG_DF) != 0;
  }

  /** True for any fragment: more-fragments set or a non-zero offset. */
  public static boolean isFragment(DirectBuffer buffer, int offset) {
    return (flagsFragment(buffer, offset) & (FLAG_MF | FRAGMENT_OFFSET_MASK)) != 0;
  }

  /** Fragment offset in bytes. */
  public static int fragmentOffset(DirectBuffer buffer, int offset) {
    return (flagsFragment(buffer, offset) & FRAGMENT_OFFSET_MASK) << 3;
  }

  public static int ttl(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
  }

  public static int protocol(DirectBuffer buffer, int offset) {
    return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
  }

  public static int checksum(DirectBuffer buffer, int offset) {
    return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static int source(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static int destination(DirectBuffer buffer, int offset) {
    return buffer.getInt(offset + DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static void checksum(MutableDirectBuffer buffer, int offset, int value) {
    buffer.putShort(offset + CHECKSUM_OFFSET, (short) value, ByteOrder.BIG_ENDIAN);
  }

  public static void totalLength(MutableDirectBuffer buffer, int offset, int value) {
    buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short) value, ByteOrder.BIG_ENDIAN);
  }

  public static void flagsFragment(MutableDirectBuffer buffer, int offset, int value) {
    buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short) value, ByteOrder.BIG_ENDIAN);
  }

  public static void source(MutableDirectBuffer buffer, int offset, int address) {
    buffer.putInt(offset + SOURCE_OFFSET, address, ByteOrder.BIG_ENDIAN);
  }

  public static void destination(MutableDirectBuffer buffer, int offset, int address) {
    buffer.putInt(offset + DESTINATION_OFFSET, address, ByteOrder.BIG_ENDIAN);
  }

  /** Recomputes the checksum over the header's IHL × 4 bytes. */
  public static void updateChecksum(MutableDirectBuffer buffer, int offset) {
    int length = headerLength(buffer, offset);
    checksum(buffer, offset, 0);
    checksum(buffer, offset, InternetChecksum.checksum(buffer, offset, length));
  }

  /**
   * Decrements TTL and patches the checksum incrementally: TTL shares a 16-bit word with the
   * protocol, so the word goes from (ttl, proto) to (ttl − 1, proto) — RFC 1624 eqn. 3, as Click's
   * DecIPTTL does, rather than re-summing the header.
   */
  public static void decrementTtl(MutableDirectBuffer buffer, int offset) {
    int word = buffer.getShort(offset + TTL_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    int newWord = word - 0x0100;
    buffer.putShort(offset + TTL_OFFSET, (short) newWord, ByteOrder.BIG_ENDIAN);
    checksum(buffer, offset, InternetChecksum.update16(checksum(buffer, offset), word, newWord));
  }

  /**
   * Writes a 20-byte header with no options and its checksum.
   *
   * @param flagsFragment the flags-and-offset word (offset in 8-byte units)
   */
  public static void write(
      MutableDirectBuffer buffer,
      int offset,
      int tos,
      int totalLength,
      int id,
      int flagsFragment,
      int ttl,
      int protocol,
      int source,
      int destination) {
    // Summed from the values rather than read back from the buffer: the same RFC 1071 sum over the
    // header's ten 16-bit words (checksum word zero) without twenty bounds-checked loads (that
    // read-back sum was 9% of a 64-byte redirect's JFR samples, PipelineBenchmark).
    long sum =
        (0x4500L | (tos & 0xFF))
            + (totalLength & 0xFFFF)
            + (id & 0xFFFF)
            + (flagsFragment & 0xFFFF)
            + (((ttl & 0xFF) << 8) | (protocol & 0xFF))
            + (source >>> 16)
            + (source & 0xFFFF)
            + (destination >>> 16)
            + (destination & 0xFFFF);
    int checksum = ~InternetChecksum.fold(sum) & 0xFFFF;
    // The 20 bytes in three stores (bytes 0-7, 8-15, 16-19), not ten: each store is bounds-checked,
    // and this is inlined into every encapsulation (BENCHMARKS.md, "What the JIT decides").
    buffer.putLong(
        offset,
        0x45L << 56
            | (tos & 0xFFL) << 48
            | (totalLength & 0xFFFFL) << 32
            | (id & 0xFFFFL) << 16
            | (flagsFragment & 0xFFFFL),
        ByteOrder.BIG_ENDIAN);
    buffer.putLong(
        offset + TTL_OFFSET,
        (ttl & 0xFFL) << 56
            | (protocol & 0xFFL) << 48
            | (long) checksum << 32
            | (source & 0xFFFF_FFFFL),
        ByteOrder.BIG_ENDIAN);
    buffer.putInt(offset + DESTINATION_OFFSET, destination, ByteOrder.BIG_ENDIAN);
  }

  /** Parses dotted-quad text into an address; throws {@link IllegalArgumentException}. */
  public static int parseAddress(String text) {
    String[] parts = text.trim().split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + text);
    }
    int address = 0;
    for (String part : parts) {
      int octet;
      try {
        octet = Integer.parseInt(part);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an IPv4 address: " + text, e);
      }
      if (octet < 0 || octet > 255 || part.isEmpty() || part.length() > 3) {
        throw new IllegalArgumentException("not an IPv4 address: " + text);
      }
      address = (address << 8) | octet;
    }
    return address;
  }

  /** Formats an address as dotted-quad text. */
  public static String formatAddress(int address) {
    return (address >>> 24)
        + "."
        + ((address >>> 16) & 0xFF)
        + "."
        + ((address >>> 8) & 0xFF)
        + "."
        + (address & 0xFF);
  }
}
