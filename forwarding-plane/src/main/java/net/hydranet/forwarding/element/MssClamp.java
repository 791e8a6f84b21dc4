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
 * to fragment (the usual cure for a tunnel's bytes: IP-in-IP's 20, the second chance's 40 to 52
 * (GueEncap#overhead); RFC 2923 §2.1 on why PMTUD alone is fragile). The TCP checksum is patched
 * incrementally (RFC 1624), so the payload is never re-summed.
 */
public final class MssClamp implements Element {
  private final Counters counters;

  public MssClamp(Counters counters) {
    this.counters = counters;
  }

  /**
   * The largest MSS whose segments fit a tunnel adding {@code tunnelOverhead} bytes over a link of
   * {@code mtu}: the MTU less the tunnel's headers, the inner IP header(s) ({@code innerHeaders},
   * options and IPv6 extension headers included) and a TCP header without options (RFC 9293 §3.7.1:
   * the MSS counts neither IP nor TCP options; a sender using options sends less).
   */
  public static int maxMss(int mtu, int tunnelOverhead, int innerHeaders) {
    return mtu - tunnelOverhead - innerHeaders - TcpHeader.MIN_LENGTH;
  }

  /**
   * As an element: clamps a SYN at {@link PacketContext#l3} to the largest segment that fits
   * IP-in-IP over the route's {@link PacketContext#mtu}.
   *
   * @return {@link Verdict#CONTINUE}: the datagram goes on, clamped or not
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    clampForTunnel(buffer, packet.l3, packet.mtu, IpipEncap.OVERHEAD);
    return Verdict.CONTINUE;
  }

  /**
   * Clamps a SYN at {@code ipOffset} to the largest segment that fits a tunnel adding {@code
   * tunnelOverhead} bytes over a link of {@code mtu} ({@link #maxMss}).
   *
   * @return true if the option was rewritten
   */
  public boolean clampForTunnel(
      MutableDirectBuffer buffer, int ipOffset, int mtu, int tunnelOverhead) {
    return clamp(
        buffer, ipOffset, maxMss(mtu, tunnelOverhead, Ipv4Header.headerLength(buffer, ipOffset)));
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
