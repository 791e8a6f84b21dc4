package net.hydranet.forwarding.element;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * Lowers the MSS option of a TCP SYN so the peer never sends a segment that would need the tunnel
 * to fragment (the usual cure for IP-in-IP's 20 bytes; RFC 2923 §2.1 on why PMTUD alone is
 * fragile). The TCP checksum is patched incrementally (RFC 1624), so the payload is never
 * re-summed.
 */
public final class MssClamp implements Element {
  private final Counters counters;

  public MssClamp(Counters counters) {
    this.counters = counters;
  }

  /**
   * As an element: clamps a SYN at {@link PacketContext#l3} to the largest segment that fits a
   * tunnel over the route's {@link PacketContext#mtu} (the MTU less an outer header, the IP header
   * and a minimal TCP header).
   *
   * @return {@link Verdict#CONTINUE}: the datagram goes on, clamped or not
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    clamp(
        buffer,
        ip,
        packet.mtu
            - Ipv4Header.MIN_LENGTH
            - Ipv4Header.headerLength(buffer, ip)
            - TcpHeader.MIN_LENGTH);
    return Verdict.CONTINUE;
  }

  /**
   * Clamps the MSS of a SYN at {@code ipOffset} to {@code maxMss} if it is larger. Non-SYN
   * segments, fragments and segments without a well-formed MSS option are left alone.
   *
   * @return true if the option was rewritten
   */
  public boolean clamp(MutableDirectBuffer buffer, int ipOffset, int maxMss) {
    if (Ipv4Header.protocol(buffer, ipOffset) != Ipv4Header.PROTOCOL_TCP
        || Ipv4Header.isFragment(buffer, ipOffset)) {
      return false;
    }
    int ipHeader = Ipv4Header.headerLength(buffer, ipOffset);
    return clampSegment(
        buffer, ipOffset + ipHeader, Ipv4Header.totalLength(buffer, ipOffset) - ipHeader, maxMss);
  }

  /**
   * Clamps the MSS of the TCP SYN segment of {@code segmentLength} bytes at {@code tcp}, of either
   * address family: the pseudo-header does not change, so the incremental patch is the same for
   * IPv6 (whose caller has checked that the segment is whole, not a fragment).
   *
   * @return true if the option was rewritten
   */
  public boolean clampSegment(MutableDirectBuffer buffer, int tcp, int segmentLength, int maxMss) {
    if (segmentLength < TcpHeader.MIN_LENGTH
        || (TcpHeader.flags(buffer, tcp) & TcpHeader.FLAG_SYN) == 0) {
      return false;
    }
    int tcpHeader = TcpHeader.headerLength(buffer, tcp);
    if (tcpHeader < TcpHeader.MIN_LENGTH || tcpHeader > segmentLength) {
      return false;
    }
    int option = TcpHeader.mssOptionOffset(buffer, tcp, tcpHeader);
    if (option == TcpHeader.NO_OPTION) {
      return false;
    }
    int mss = buffer.getShort(option + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    if (mss <= maxMss) {
      return false;
    }
    buffer.putShort(option + 2, (short) maxMss, ByteOrder.BIG_ENDIAN);
    // The MSS value is 16-bit aligned relative to the TCP header only when the option starts on an
    // even byte; the checksum is over 16-bit words, so patch the word(s) the value actually covers.
    if (((option + 2 - tcp) & 1) == 0) {
      TcpHeader.checksum(
          buffer, tcp, InternetChecksum.update16(TcpHeader.checksum(buffer, tcp), mss, maxMss));
    } else {
      int wordStart = option + 1;
      int oldHigh = ((buffer.getByte(wordStart) & 0xFF) << 8) | (mss >>> 8);
      int newHigh = ((buffer.getByte(wordStart) & 0xFF) << 8) | (maxMss >>> 8);
      int oldLow = ((mss & 0xFF) << 8) | (buffer.getByte(option + 4) & 0xFF);
      int newLow = ((maxMss & 0xFF) << 8) | (buffer.getByte(option + 4) & 0xFF);
      int sum = InternetChecksum.update16(TcpHeader.checksum(buffer, tcp), oldHigh, newHigh);
      TcpHeader.checksum(buffer, tcp, InternetChecksum.update16(sum, oldLow, newLow));
    }
    counters.increment(Counter.MSS_CLAMPED);
    return true;
  }
}
