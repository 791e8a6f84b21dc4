package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The redirector's side of the second chance's loop guard (hostserver/SECOND-CHANCE.md): a host
 * server that holds no socket for a packet and has no other candidate left passes it back to the
 * redirector that first sent it — in the second-chance tunnel with its hop list used up, or, when
 * it came in IP-in-IP (RFC 2003), in IP-in-IP again, so that it fits exactly as it arrived. Such a
 * packet, addressed to us, is decapsulated here and forwarded to its own destination, the origin,
 * <em>without</em> the redirect lookup: a redirector never redirects what a host server passed on
 * (IPVS's {@code ignore_tunneled}, in the redirector's terms), so a flow cannot circle between the
 * two.
 *
 * <p><b>The walk, in IP-in-IP.</b> IP-in-IP carries no hop list, so the redirector walks the
 * candidates itself: a pass-back from host server S goes, still in IP-in-IP, to the candidate after
 * S in the flow's candidate order ({@link #NEXT_CANDIDATE}), and only from the last, or from a host
 * server not in the order, to the origin. The order is computed from the table and the flow alone,
 * so every redirector with the same table walks the same way: the consistent (Maglev) choice for
 * the flow's 5-tuple first, then the list {@link GueEncap} would write for a flow sent there — the
 * other host servers, draining ones included, ranked by the rendezvous hash, at most {@link
 * GueEncap#MAX_CANDIDATES}. The sender's index in the order strictly rises with each bounce and a
 * host server passes back only what a redirector sent it, so one packet crosses at most 2 × 4
 * tunnels (out and back per candidate) before it reaches the origin; its inner TTL, taken one at
 * each pass through the redirector and checked above 1 here, bounds it even while the table changes
 * between bounces.
 *
 * <p>Only what a host server could have been sent is taken: in GUE, a list used up ({@code next hop
 * == hop count}) whose last hop is this address; in either tunnel, an inner TCP or UDP datagram,
 * whole, with a valid header and a TTL above 1, to a service whose host servers include the outer
 * source. Anything else — a list not used up, a tunnel in the tunnel, a stranger's tunnel, a flow
 * to an address no service has — is refused and counted ({@code drop_tunnel_refused}): the
 * redirector is no open decapsulator.
 */
public final class TunnelToOrigin implements Element {
  /** Forward the inner datagram, now at {@link PacketContext#l3}, to its destination. */
  public static final int FORWARD = 0;

  /** Refused and counted. */
  public static final int REFUSED = 1;

  /**
   * An IP-in-IP pass-back with a candidate left: redirect the inner datagram, now at {@link
   * PacketContext#l3}, to {@link PacketContext#target} in IP-in-IP ({@link PacketContext#service}
   * set); {@link #sender} is the host server that passed it back.
   */
  public static final int NEXT_CANDIDATE = 2;

  /**
   * {@link #sender} of a pass-back in GUE: not a candidate the flow was sent to (the list's last
   * host server), so any pin the flow has may move to the origin.
   */
  public static final int ANY_HOST_SERVER = 0;

  private final Counters counters;
  private final RedirectorTable redirects;
  private final int[] others = new int[GueEncap.MAX_CANDIDATES];
  private final long[] scores = new long[GueEncap.MAX_CANDIDATES];
  private int sender;

  public TunnelToOrigin(Counters counters, RedirectorTable redirects) {
    this.counters = counters;
    this.redirects = redirects;
  }

  /**
   * Whether a datagram for one of our addresses is in a tunnel a host server passes back in: the
   * second-chance tunnel (UDP to {@link GueHeader#PORT}) or IP-in-IP (protocol 4); only then is
   * {@link #process} its element. A non-first fragment is not (its first is refused).
   */
  public static boolean isTunnel(DirectBuffer buffer, int ip, int available) {
    if (Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      return false;
    }
    int protocol = Ipv4Header.protocol(buffer, ip);
    if (protocol == Ipv4Header.PROTOCOL_IPIP) {
      return true;
    }
    if (protocol != Ipv4Header.PROTOCOL_UDP) {
      return false;
    }
    int header = Ipv4Header.headerLength(buffer, ip);
    return Ipv4Header.totalLength(buffer, ip) - header >= UdpHeader.LENGTH
        && header + UdpHeader.LENGTH <= available
        && UdpHeader.destinationPort(buffer, ip + header) == GueHeader.PORT;
  }

  /**
   * For a datagram addressed to this router that {@link #isTunnel} (its outer header checked by
   * {@link IpInput}): on {@link #FORWARD} and {@link #NEXT_CANDIDATE}, {@code l3}, {@code
   * available}, {@code source} and {@code destination} describe the inner datagram; on {@code
   * FORWARD} no service or target is set, on {@code NEXT_CANDIDATE} both are.
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int outer = packet.l3;
    if (Ipv4Header.isFragment(buffer, outer)) {
      return refuse();
    }
    int outerHeader = Ipv4Header.headerLength(buffer, outer);
    int inner = outer + outerHeader;
    boolean ipip = Ipv4Header.protocol(buffer, outer) == Ipv4Header.PROTOCOL_IPIP;
    if (!ipip) {
      int udp = inner;
      inner =
          GueHeader.innerOffset(buffer, udp, Ipv4Header.totalLength(buffer, outer) - outerHeader);
      if (inner < 0) {
        return refuse();
      }
      int count = GueHeader.hopCount(buffer, udp);
      if (count == 0
          || GueHeader.nextHop(buffer, udp) != count
          || GueHeader.hop(buffer, udp, count - 1) != Ipv4Header.destination(buffer, outer)) {
        return refuse(); // not a used-up list ending here: another host server's, or forged
      }
    }
    // IP-in-IP carries no list: it is addressed to us (IpInput), and the checks below are the
    // rest of the guard, as for a used-up list; where it goes then is the walk's (class comment).
    int innerAvailable = Ipv4Header.totalLength(buffer, outer) - (inner - outer);
    if (innerAvailable < Ipv4Header.MIN_LENGTH || Ipv4Header.version(buffer, inner) != 4) {
      return refuse();
    }
    int innerHeader = Ipv4Header.headerLength(buffer, inner);
    if (innerHeader < Ipv4Header.MIN_LENGTH
        || innerHeader > innerAvailable
        || Ipv4Header.totalLength(buffer, inner) != innerAvailable
        || !InternetChecksum.verify(buffer, inner, innerHeader)
        || Ipv4Header.isFragment(buffer, inner)
        || Ipv4Header.ttl(buffer, inner) <= 1) {
      return refuse();
    }
    int protocol = Ipv4Header.protocol(buffer, inner);
    if ((protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP)
        || innerAvailable - innerHeader < UdpHeader.LENGTH) {
      return refuse(); // a tunnel in the tunnel among them: never unwrapped twice
    }
    int destination = Ipv4Header.destination(buffer, inner);
    int l4 = inner + innerHeader;
    int service = redirects.lookup(destination, protocol, UdpHeader.destinationPort(buffer, l4));
    int from = Ipv4Header.source(buffer, outer);
    if (service == RedirectorTable.NOT_FOUND || !redirects.hasHostServer(service, from)) {
      return refuse();
    }
    packet.l3 = inner;
    packet.available = innerAvailable;
    packet.source = Ipv4Header.source(buffer, inner);
    packet.destination = destination;
    sender = ipip ? from : ANY_HOST_SERVER;
    int next = ipip ? nextCandidate(buffer, inner, l4, protocol, service, from) : 0;
    if (next != 0) {
      packet.service = service;
      packet.target = next;
      counters.increment(Counter.PASSED_BACK_TO_NEXT_CANDIDATE);
      return NEXT_CANDIDATE;
    }
    packet.service = RedirectorTable.NOT_FOUND;
    packet.target = 0;
    counters.increment(Counter.TUNNELLED_TO_ORIGIN);
    return FORWARD;
  }

  /**
   * The host server that passed the last datagram {@link #process} took back in IP-in-IP, or {@link
   * #ANY_HOST_SERVER} for one in GUE.
   */
  public int sender() {
    return sender;
  }

  /**
   * The candidate after {@code from} in the flow's order (see the class comment), or 0 for the
   * origin: {@code from} the last, or not in the order. No allocation: one Maglev lookup and a walk
   * of the service's few host servers.
   */
  private int nextCandidate(
      DirectBuffer buffer, int inner, int l4, int protocol, int service, int from) {
    return nextCandidate(
        redirects,
        service,
        RedirectLookup.flowHash(
            Ipv4Header.source(buffer, inner),
            Ipv4Header.destination(buffer, inner),
            protocol,
            UdpHeader.sourcePort(buffer, l4),
            UdpHeader.destinationPort(buffer, l4)),
        GueEncap.addressHash(buffer, inner),
        from,
        others,
        scores);
  }

  /**
   * The walk's rule, for tests and oracles as for {@link #process}: the order is {@code
   * select(service, flowHash)} (when not 0), then {@link GueEncap#chooseHops} for it with {@code
   * addressHash}; the result is the entry after {@code from}, or 0 when {@code from} is the last or
   * not in it. {@code others} and {@code scores} are scratch of {@link GueEncap#MAX_CANDIDATES}.
   */
  public static int nextCandidate(
      RedirectorTable redirects,
      int service,
      int flowHash,
      int addressHash,
      int from,
      int[] others,
      long[] scores) {
    int first = redirects.select(service, flowHash);
    int count = GueEncap.chooseHops(redirects, service, first, addressHash, others, scores);
    if (first != 0 && from == first) {
      return count > 0 ? others[0] : 0;
    }
    for (int i = 0; i + 1 < count; i++) {
      if (others[i] == from) {
        return others[i + 1];
      }
    }
    return 0;
  }

  private int refuse() {
    counters.increment(Counter.DROP_TUNNEL_REFUSED);
    return REFUSED;
  }
}
