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

  private final Counters counters;
  private final RedirectorTable redirects;

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
   * {@link IpInput}): on {@link #FORWARD}, {@code l3}, {@code available}, {@code source} and {@code
   * destination} describe the inner datagram and no service or target is set.
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int outer = packet.l3;
    if (Ipv4Header.isFragment(buffer, outer)) {
      return refuse();
    }
    int outerHeader = Ipv4Header.headerLength(buffer, outer);
    int inner = outer + outerHeader;
    if (Ipv4Header.protocol(buffer, outer) == Ipv4Header.PROTOCOL_UDP) {
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
    // rest of the guard, as for a used-up list.
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
    int service =
        redirects.lookup(
            destination, protocol, UdpHeader.destinationPort(buffer, inner + innerHeader));
    if (service == RedirectorTable.NOT_FOUND
        || !redirects.hasHostServer(service, Ipv4Header.source(buffer, outer))) {
      return refuse();
    }
    packet.l3 = inner;
    packet.available = innerAvailable;
    packet.source = Ipv4Header.source(buffer, inner);
    packet.destination = destination;
    packet.service = RedirectorTable.NOT_FOUND;
    packet.target = 0;
    counters.increment(Counter.TUNNELLED_TO_ORIGIN);
    return FORWARD;
  }

  private int refuse() {
    counters.increment(Counter.DROP_TUNNEL_REFUSED);
    return REFUSED;
  }
}
