package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Originates ICMPv6 errors about a packet we could not deliver (RFC 4443 §3): time exceeded,
 * destination unreachable and Packet Too Big, the one a router owes instead of fragmenting (RFC
 * 8200 §5, RFC 8201).
 *
 * <p>Never about an ICMPv6 error or redirect, nor to a source that names no single node (RFC 4443
 * §2.4 (e), {@link Icmpv6Header#mayReplyTo}); quotes as much of the packet as keeps the error
 * within the minimum MTU (§2.4 (c)); comes from the address of the interface it leaves by; and is
 * rate-limited by a token bucket on the pipeline's clock (§2.4 (f)) with the IPv4 errors' rate and
 * burst, but a bucket of its own, as {@link IcmpErrorSender} does for IPv4.
 */
public final class Icmp6ErrorSender {
  private static final int IP_OFFSET = 64;

  private final Counters counters;
  private final Ip6Output output;
  private final Egress egress;
  private final Egress6 egress6;
  private final PacketContext route = new PacketContext();
  private final UnsafeBuffer scratch;
  private final long nanosPerToken;
  private final long burstNanos;
  private long bucketTime;

  public Icmp6ErrorSender(
      Counters counters, Ip6Output output, Egress egress, Egress6 egress6, int rate, int burst) {
    this.counters = counters;
    this.output = output;
    this.egress = egress;
    this.egress6 = egress6;
    this.scratch =
        new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(IP_OFFSET + Icmpv6Header.MAX_ERROR_PACKET, 64));
    this.nanosPerToken = rate == 0 ? Long.MAX_VALUE : 1_000_000_000L / rate;
    this.burstNanos = rate == 0 ? 0 : nanosPerToken * burst;
    this.bucketTime = Long.MIN_VALUE / 2;
  }

  /**
   * Sends an error of {@code type}/{@code code} about the packet at {@code ip} (of {@code length}
   * bytes, its payload end), when RFC 4443 allows one and the bucket has a token.
   *
   * @param rest the MTU of a Packet Too Big, else 0
   * @param aboutError the packet carries an ICMPv6 error or redirect
   * @param ingress the interface it came in on: the way back to a link-local source
   * @return true if the error was sent
   */
  public boolean send(
      DirectBuffer buffer,
      int ip,
      int length,
      int type,
      int code,
      int rest,
      boolean aboutError,
      int ingress,
      Counter sent) {
    if (!Icmpv6Header.mayReplyTo(buffer, ip, type, code, aboutError)) {
      return false;
    }
    long sourceHigh = Ipv6Header.sourceHigh(buffer, ip);
    long sourceLow = Ipv6Header.sourceLow(buffer, ip);
    PacketContext r = route;
    if (output.route(sourceHigh, sourceLow, ingress, r) == Ip6Output.NO_ROUTE) {
      return false;
    }
    if (!takeToken(egress.now())) {
      counters.increment(Counter.ICMPV6_RATE_LIMITED);
      return false;
    }
    int out = r.egressInterface;
    int errorLength =
        Icmpv6Header.writeError(
            scratch,
            IP_OFFSET,
            type,
            code,
            rest,
            64,
            0,
            egress6.sourceHigh(out),
            egress6.sourceLow(out),
            buffer,
            ip,
            length);
    if (errorLength > r.mtu) {
      // Only on a link whose MTU is below IPv6's minimum; never fragmented.
      return false;
    }
    egress6.send(scratch, IP_OFFSET, errorLength, out, r.nextHop6High, r.nextHop6Low);
    counters.increment(sent);
    return true;
  }

  /**
   * The tail every "cannot deliver" shares: the error (when the rules above allow one) and the
   * packet's drop, counted as {@code drop}.
   *
   * @return {@link Verdict#DROP}
   */
  public int reject(
      DirectBuffer buffer,
      int ip,
      int length,
      int type,
      int code,
      int rest,
      boolean aboutError,
      int ingress,
      Counter sent,
      Counter drop) {
    send(buffer, ip, length, type, code, rest, aboutError, ingress, sent);
    counters.increment(drop);
    return Verdict.DROP;
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
