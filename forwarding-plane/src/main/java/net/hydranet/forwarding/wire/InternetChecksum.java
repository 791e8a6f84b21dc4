package net.hydranet.forwarding.wire;

import org.agrona.DirectBuffer;

/**
 * The Internet checksum (RFC 1071) over buffers, in full and incrementally (RFC 1624).
 *
 * <p>All values are 16-bit ones' complement quantities held in the low bits of an int. The full
 * form reads the buffer as big-endian 16-bit words whatever the host byte order, because the sum is
 * defined over network order.
 */
public final class InternetChecksum {
  private InternetChecksum() {}

  /** Ones' complement sum of {@code length} bytes, not folded, added to {@code initial}. */
  public static long sum(DirectBuffer buffer, int offset, int length, long initial) {
    long sum = initial;
    int i = 0;
    // 8 bytes a load, added as two 32-bit big-endian words: a 32-bit word adds both of its 16-bit
    // halves at once, and a long accumulator cannot overflow for any frame we carry. The sum is
    // the same as word by word; each load is bounds-checked, so half the loads halve the checks
    // (CheckIpHeader verifies every header: 3 loads instead of 5).
    for (; i + 8 <= length; i += 8) {
      long words = buffer.getLong(offset + i, java.nio.ByteOrder.BIG_ENDIAN);
      sum += (words >>> 32) + (words & 0xFFFF_FFFFL);
    }
    if (i + 4 <= length) {
      sum += buffer.getInt(offset + i, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
      i += 4;
    }
    if (i + 2 <= length) {
      sum += buffer.getShort(offset + i, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
      i += 2;
    }
    if (i < length) {
      sum += (buffer.getByte(offset + i) & 0xFF) << 8;
    }
    return sum;
  }

  /**
   * Ones' complement sum, not folded, of the 20 bytes of an IPv4 header without options: the sum
   * {@link #sum} gives, in three loads and no loop. Every packet's header is verified; the loop's
   * compiled form (pre, main and post loops, and a loop predicate that deoptimises when it fails)
   * is not needed for it.
   */
  public static long sumHeader20(DirectBuffer buffer, int offset) {
    return sumHeader20(
        buffer.getLong(offset, java.nio.ByteOrder.BIG_ENDIAN),
        buffer.getLong(offset + 8, java.nio.ByteOrder.BIG_ENDIAN),
        buffer.getInt(offset + 16, java.nio.ByteOrder.BIG_ENDIAN));
  }

  /**
   * {@link #sumHeader20} of words already loaded: the header's bytes 0–7 and 8–15 as big-endian
   * longs, 16–19 as a big-endian int (for a caller that reads its fields from the same words).
   */
  public static long sumHeader20(long first, long second, int third) {
    return (first >>> 32)
        + (first & 0xFFFF_FFFFL)
        + (second >>> 32)
        + (second & 0xFFFF_FFFFL)
        + (third & 0xFFFF_FFFFL);
  }

  /** Folds a sum to 16 bits with end-around carry. */
  public static int fold(long sum) {
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xFFFF) + (sum >>> 16);
    }
    return (int) sum;
  }

  /** The checksum field value for {@code length} bytes (the field itself must read zero). */
  public static int checksum(DirectBuffer buffer, int offset, int length) {
    return ~fold(sum(buffer, offset, length, 0)) & 0xFFFF;
  }

  /** True when the bytes, checksum field included, sum to 0xFFFF: an intact header. */
  public static boolean verify(DirectBuffer buffer, int offset, int length) {
    return fold(sum(buffer, offset, length, 0)) == 0xFFFF;
  }

  /**
   * RFC 1624 eqn. 3: {@code HC' = ~(~HC + ~m + m')} for one 16-bit field changing from {@code m} to
   * {@code m'}. Unlike eqn. 2 of RFC 1141 it never yields 0x0000 for a non-zero sum, so it stays
   * right when the result would be -0.
   */
  public static int update16(int checksum, int oldWord, int newWord) {
    long sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
    return ~fold(sum) & 0xFFFF;
  }

  /** RFC 1624 eqn. 3 for a 32-bit field (an address), as two 16-bit words. */
  public static int update32(int checksum, int oldValue, int newValue) {
    long sum =
        (~checksum & 0xFFFF)
            + (~(oldValue >>> 16) & 0xFFFF)
            + (~oldValue & 0xFFFF)
            + ((newValue >>> 16) & 0xFFFF)
            + (newValue & 0xFFFF);
    return ~fold(sum) & 0xFFFF;
  }
}
