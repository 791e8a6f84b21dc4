package net.hydranet.forwarding.element;

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
    if (available < Ipv4Header.MIN_LENGTH) {
      return drop(Counter.DROP_TRUNCATED_IP);
    }
    if (Ipv4Header.version(buffer, offset) != 4) {
      return drop(Counter.DROP_BAD_IP_VERSION);
    }
    int headerLength = Ipv4Header.headerLength(buffer, offset);
    if (headerLength < Ipv4Header.MIN_LENGTH) {
      return drop(Counter.DROP_BAD_IHL);
    }
    int totalLength = Ipv4Header.totalLength(buffer, offset);
    if (totalLength < headerLength || totalLength > available) {
      return drop(Counter.DROP_BAD_TOTAL_LENGTH);
    }
    long sum =
        headerLength == Ipv4Header.MIN_LENGTH
            ? InternetChecksum.sumHeader20(buffer, offset)
            : InternetChecksum.sum(buffer, offset, headerLength, 0);
    if (InternetChecksum.fold(sum) != 0xFFFF) {
      return drop(Counter.DROP_BAD_IP_CHECKSUM);
    }
    if (isMartianSource(Ipv4Header.source(buffer, offset))) {
      return drop(Counter.DROP_MARTIAN_SOURCE);
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
