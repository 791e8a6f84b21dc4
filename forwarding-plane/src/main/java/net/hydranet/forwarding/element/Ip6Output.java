package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.table.Ipv6RouteTable;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.MutableDirectBuffer;

/**
 * Every IPv6 packet the redirector sends leaves through here: route (longest-prefix match in the
 * {@link Ipv6RouteTable}) → next hop → MTU → {@link Egress6}. Never fragments (RFC 8200 §5): a
 * packet over the MTU is {@link #TOO_BIG}, and the caller answers with a Packet Too Big.
 */
public final class Ip6Output implements Element {
  /** On its way: sent, or queued for neighbour discovery. */
  public static final int SENT = 0;

  /** {@link #route}: no route to the address. */
  public static final int NO_ROUTE = 1;

  /** {@link #route}: egress interface, next hop and MTU are set. */
  public static final int ROUTED = 2;

  /** Larger than the MTU: nothing was sent. */
  public static final int TOO_BIG = 3;

  private final Ipv6RouteTable routes;
  private final RouterInterface[] interfaces;
  private final Egress6 egress;

  public Ip6Output(Ipv6RouteTable routes, RouterInterface[] interfaces, Egress6 egress) {
    this.routes = routes;
    this.interfaces = interfaces;
    this.egress = egress;
  }

  /**
   * Looks up the route to {@code (high, low)} and sets {@link PacketContext#egressInterface},
   * {@link PacketContext#nextHop6High}/{@code Low} (the gateway, or the address itself on a
   * connected prefix) and {@link PacketContext#mtu}. A link-local address is on the link the packet
   * came in by, {@code ingress} (RFC 4291 §2.5.6): only answers go there.
   *
   * @param ingress the interface a link-local address is on, or -1 for none
   * @return {@link #ROUTED} or {@link #NO_ROUTE}
   */
  public int route(long high, long low, int ingress, PacketContext packet) {
    int ifIndex;
    if (Ipv6Header.isLinkLocal(high)) {
      if (ingress < 0) {
        return NO_ROUTE;
      }
      ifIndex = ingress;
      packet.nextHop6High = high;
      packet.nextHop6Low = low;
    } else {
      int route = routes.lookup(high, low);
      if (route == Ipv6RouteTable.NOT_FOUND) {
        return NO_ROUTE;
      }
      ifIndex = routes.interfaceIndex(route);
      boolean connected = routes.isConnected(route);
      packet.nextHop6High = connected ? high : routes.nextHopHigh(route);
      packet.nextHop6Low = connected ? low : routes.nextHopLow(route);
    }
    packet.egressInterface = ifIndex;
    packet.mtu = interfaces[ifIndex].mtu();
    return ROUTED;
  }

  /** The interface {@link #route} chose. */
  public RouterInterface egressInterface(PacketContext packet) {
    return interfaces[packet.egressInterface];
  }

  /**
   * Sends the IPv6 packet at {@link PacketContext#l3} along the route {@link #route} set, if it
   * fits the MTU.
   *
   * @return {@link #SENT} or {@link #TOO_BIG}
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    int length = Ipv6Header.LENGTH + Ipv6Header.payloadLength(buffer, ip);
    if (length > packet.mtu) {
      return TOO_BIG;
    }
    egress.send(
        buffer, ip, length, packet.egressInterface, packet.nextHop6High, packet.nextHop6Low);
    return SENT;
  }
}
