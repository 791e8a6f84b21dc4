package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Originates ICMP errors about a datagram we could not deliver (RFC 792, RFC 1812 §4.3.2).
 *
 * <p>Never about an ICMP error, a non-first fragment, or a packet from a martian or broadcast
 * source (RFC 1812 §4.3.2.7); quotes as much of the datagram as keeps the error within 576 bytes
 * (§4.3.2.3); comes from the address of the interface it leaves by (§4.3.2.4); and is rate-limited
 * by a token bucket on the pipeline's clock (§4.3.2.8) so a flood of bad packets cannot turn the
 * router into an amplifier.
 */
public final class IcmpErrorSender {
  private static final int IP_OFFSET = 64;
  private static final int MAX_ERROR = 576;
  private static final int MAX_QUOTE = MAX_ERROR - Ipv4Header.MIN_LENGTH - IcmpHeader.LENGTH;

  private final Counters counters;
  private final RouteTable routes;
  private final RouterInterface[] interfaces;
  private final Egress egress;
  private final UnsafeBuffer scratch;
  private final long nanosPerToken;
  private final long burstNanos;
  private long bucketTime;
  private int nextId = 1;

  public IcmpErrorSender(
      Counters counters,
      RouteTable routes,
      RouterInterface[] interfaces,
      Egress egress,
      int ratePerSecond,
      int burst) {
    this.counters = counters;
    this.routes = routes;
    this.interfaces = interfaces;
    this.egress = egress;
    this.scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(IP_OFFSET + MAX_ERROR, 64));
    this.nanosPerToken = ratePerSecond == 0 ? Long.MAX_VALUE : 1_000_000_000L / ratePerSecond;
    this.burstNanos = ratePerSecond == 0 ? 0 : nanosPerToken * burst;
    this.bucketTime = Long.MIN_VALUE / 2;
  }

  /**
   * Sends an error of {@code type}/{@code code} about the datagram at {@code offset}.
   *
   * @param rest the ICMP header's second word (the next-hop MTU for fragmentation-needed)
   * @param sent the counter for this kind of error
   * @return true if an error went out
   */
  public boolean send(DirectBuffer buffer, int offset, int type, int code, int rest, Counter sent) {
    int source = Ipv4Header.source(buffer, offset);
    if (CheckIpHeader.isMartianSource(source) || isNonFirstFragment(buffer, offset)) {
      return false;
    }
    int headerLength = Ipv4Header.headerLength(buffer, offset);
    if (Ipv4Header.protocol(buffer, offset) == Ipv4Header.PROTOCOL_ICMP) {
      int icmp = offset + headerLength;
      if (Ipv4Header.totalLength(buffer, offset) < headerLength + 1
          || IcmpHeader.isError(IcmpHeader.type(buffer, icmp))) {
        return false;
      }
    }
    int route = routes.lookup(source);
    if (route == RouteTable.NOT_FOUND) {
      return false;
    }
    int ifIndex = routes.interfaceIndex(route);
    RouterInterface out = interfaces[ifIndex];
    if (source == out.broadcast()) {
      return false;
    }
    if (!takeToken(egress.now())) {
      counters.increment(Counter.ICMP_RATE_LIMITED);
      return false;
    }
    int quote = Math.min(Ipv4Header.totalLength(buffer, offset), MAX_QUOTE);
    int icmp = IP_OFFSET + Ipv4Header.MIN_LENGTH;
    int length = Ipv4Header.MIN_LENGTH + IcmpHeader.LENGTH + quote;
    IcmpHeader.write(scratch, icmp, type, code, rest);
    scratch.putBytes(icmp + IcmpHeader.LENGTH, buffer, offset, quote);
    IcmpHeader.updateChecksum(scratch, icmp, IcmpHeader.LENGTH + quote);
    Ipv4Header.write(
        scratch,
        IP_OFFSET,
        0xC0, // precedence "internetwork control", RFC 1812 §4.3.2.5
        length,
        nextId++ & 0xFFFF,
        0,
        64,
        Ipv4Header.PROTOCOL_ICMP,
        out.address(),
        source);
    int nextHop = routes.nextHop(route);
    egress.send(scratch, IP_OFFSET, length, ifIndex, nextHop == 0 ? source : nextHop);
    counters.increment(sent);
    return true;
  }

  /**
   * The tail every "cannot deliver" shares: the error (when the rules above allow one) and the
   * datagram's drop, counted as {@code drop}.
   *
   * @return {@link Verdict#DROP}
   */
  public int reject(
      DirectBuffer buffer, int offset, int type, int code, int rest, Counter sent, Counter drop) {
    send(buffer, offset, type, code, rest, sent);
    counters.increment(drop);
    return Verdict.DROP;
  }

  private static boolean isNonFirstFragment(DirectBuffer buffer, int offset) {
    return Ipv4Header.fragmentOffset(buffer, offset) != 0;
  }

  /** A token bucket kept as a single timestamp: the bucket is full when it lags now by a burst. */
  private boolean takeToken(long now) {
    if (nanosPerToken == Long.MAX_VALUE) {
      return false;
    }
    if (bucketTime < now - burstNanos) {
      bucketTime = now - burstNanos;
    }
    if (bucketTime + nanosPerToken > now) {
      return false;
    }
    bucketTime += nanosPerToken;
    return true;
  }
}
