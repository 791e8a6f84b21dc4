package net.hydranet.forwarding.element;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.DirectBuffer;

/**
 * Validates an IPv4 header before anything trusts it (RFC 1812 §5.2.2), like Click's CheckIPHeader:
 * version 4, IHL ≥ 5, IHL ≤ total length ≤ bytes captured, checksum, and no martian source (RFC
 * 1812 §5.3.7: 0/8, 127/8, multicast and class E — which includes the limited broadcast).
 */
public final class CheckIpHeader {
  private final Counters counters;

  public CheckIpHeader(Counters counters) {
    this.counters = counters;
  }

  /**
   * @param available bytes captured from {@code offset} to the end of the frame
   * @return {@link Verdict#CONTINUE} or {@link Verdict#DROP} (counted)
   */
  public int check(DirectBuffer buffer, int offset, int available) {
    return check(buffer, offset, available, null);
  }

  /**
   * {@link #check(DirectBuffer, int, int)}, and on {@link Verdict#CONTINUE} the source and
   * destination addresses, taken from the words the check read, in {@code addresses} ({@link
   * PacketContext#source}, {@link PacketContext#destination}) unless it is null.
   */
  public int check(DirectBuffer buffer, int offset, int available, PacketContext addresses) {
    if (available < Ipv4Header.MIN_LENGTH) {
      return drop(Counter.DROP_TRUNCATED_IP);
    }
    // The fixed header in three loads, each field taken from the words: version, IHL and total
    // length (a), the source (b), the destination (c), and the checksum summed from them.
    long a = buffer.getLong(offset, ByteOrder.BIG_ENDIAN);
    long b = buffer.getLong(offset + 8, ByteOrder.BIG_ENDIAN);
    int c = buffer.getInt(offset + 16, ByteOrder.BIG_ENDIAN);
    if ((int) (a >>> 60) != 4) {
      return drop(Counter.DROP_BAD_IP_VERSION);
    }
    int headerLength = (int) (a >>> 54) & 0x3C;
    if (headerLength < Ipv4Header.MIN_LENGTH) {
      return drop(Counter.DROP_BAD_IHL);
    }
    int totalLength = (int) (a >>> 32) & 0xFFFF;
    if (totalLength < headerLength || totalLength > available) {
      return drop(Counter.DROP_BAD_TOTAL_LENGTH);
    }
    long sum =
        headerLength == Ipv4Header.MIN_LENGTH
            ? InternetChecksum.sumHeader20(a, b, c)
            : InternetChecksum.sum(buffer, offset, headerLength, 0);
    if (InternetChecksum.fold(sum) != 0xFFFF) {
      return drop(Counter.DROP_BAD_IP_CHECKSUM);
    }
    if (isMartianSource((int) b)) {
      return drop(Counter.DROP_MARTIAN_SOURCE);
    }
    if (addresses != null) {
      addresses.source = (int) b;
      addresses.destination = c;
    }
    return Verdict.CONTINUE;
  }

  /** 0/8, 127/8, 224/4 and 240/4: never a legitimate source of a packet we forward. */
  public static boolean isMartianSource(int address) {
    int first = address >>> 24;
    return first == 0 || first == 127 || first >= 224;
  }

  /** 0/8, 127/8 and 240/4 (with the limited broadcast): never forwarded anywhere. */
  public static boolean isMartianDestination(int address) {
    int first = address >>> 24;
    return first == 0 || first == 127 || first >= 240;
  }

  private int drop(Counter reason) {
    counters.increment(reason);
    return Verdict.DROP;
  }
}
