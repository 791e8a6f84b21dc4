package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Every datagram the redirector sends leaves through here: route → next hop → MTU → DF? the
 * caller's frag-needed : {@link IpFragmenter} → {@link Egress}. Forwarding, redirection (with the
 * outer header) and the echo reply share it; what each does when there is no route or the datagram
 * is too big differs (which ICMP error, which TTL the quote shows), so those are ports the caller
 * answers, with {@link IcmpErrorSender#reject}.
 */
public final class IpOutput implements Element {
  /** On its way: sent, queued for ARP, or sent as fragments. */
  public static final int SENT = 0;

  /** {@link #route}: no route to the address. */
  public static final int NO_ROUTE = 1;

  /** {@link #route}: {@link PacketContext#egressInterface}, next hop and MTU are set. */
  public static final int ROUTED = 2;

  /** Larger than the MTU with DF set: nothing was sent. */
  public static final int TOO_BIG = 3;

  private final RouteTable routes;
  private final RouterInterface[] interfaces;
  private final IpFragmenter fragmenter;
  private final Egress egress;

  // Where the fragmenter's pieces go: set just before fragment(), read by the sink it calls.
  private int fragmentInterface;
  private int fragmentNextHop;
  private final IpFragmenter.FragmentSink fragmentSink = this::sendFragment;

  public IpOutput(
      RouteTable routes, RouterInterface[] interfaces, IpFragmenter fragmenter, Egress egress) {
    this.routes = routes;
    this.interfaces = interfaces;
    this.fragmenter = fragmenter;
    this.egress = egress;
  }

  /**
   * Looks up the route to {@code address}; the next hop is the route's gateway, or the address
   * itself on a connected network. Sets them in the context, for the elements after it ({@link
   * #process}, the encapsulations, {@link LocalDelivery}).
   *
   * @return {@link #ROUTED} or {@link #NO_ROUTE}
   */
  public int route(int address, PacketContext packet) {
    int route = lookup(address);
    if (route == RouteTable.NOT_FOUND) {
      return NO_ROUTE;
    }
    int ifIndex = routes.interfaceIndex(route);
    packet.egressInterface = ifIndex;
    packet.nextHop = routes.nextHopFor(route, address);
    packet.mtu = interfaces[ifIndex].mtu();
    return ROUTED;
  }

  /**
   * {@link #route}'s lookup for a caller that holds the route's interface and next hop in locals
   * ({@link #interfaceIndex}, {@link #nextHop}) and hands them to {@link #send}: the forwarding
   * path's own steps, where a value stored in the context is loaded again after every access to the
   * frame (ARCHITECTURE.md, "One packet through the redirector").
   *
   * @return the route, or {@link RouteTable#NOT_FOUND}
   */
  public int lookup(int address) {
    return routes.lookup(address);
  }

  /** The interface of a route {@link #lookup} found. */
  public int interfaceIndex(int route) {
    return routes.interfaceIndex(route);
  }

  /** The address to resolve on the way to {@code address} by {@code route}: gateway or itself. */
  public int nextHop(int route, int address) {
    return routes.nextHopFor(route, address);
  }

  /**
   * Sends the datagram at {@link PacketContext#l3} along the route {@link #route} set: whole if it
   * fits the MTU, else in fragments unless DF forbids it.
   *
   * @return {@link #SENT} or {@link #TOO_BIG}
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    return send(buffer, packet.l3, packet.mtu, packet.egressInterface, packet.nextHop);
  }

  /**
   * {@link #process} with the values its caller holds: the datagram at {@code ip} out of {@code
   * egressInterface}, whose MTU is {@code mtu}, to {@code nextHop}.
   *
   * @return {@link #SENT} or {@link #TOO_BIG}
   */
  public int send(MutableDirectBuffer buffer, int ip, int mtu, int egressInterface, int nextHop) {
    int length = Ipv4Header.totalLength(buffer, ip);
    if (length <= mtu) {
      egress.send(buffer, ip, length, egressInterface, nextHop);
      return SENT;
    }
    if (Ipv4Header.dontFragment(buffer, ip)) {
      return TOO_BIG;
    }
    fragmentInterface = egressInterface;
    fragmentNextHop = nextHop;
    fragmenter.fragment(buffer, ip, mtu, fragmentSink);
    return SENT;
  }

  /**
   * Sends a datagram of {@code length} bytes that the caller found within the route's MTU, whole,
   * out of {@code egressInterface} to {@code nextHop} (as {@link #route} set them): what {@link
   * #send} does for it, without reading the length again. For forwarding, which has checked the MTU
   * before touching the TTL.
   */
  public void sendWhole(
      MutableDirectBuffer buffer, int ip, int length, int egressInterface, int nextHop) {
    egress.send(buffer, ip, length, egressInterface, nextHop);
  }

  private void sendFragment(UnsafeBuffer buffer, int ipOffset, int ipLength) {
    egress.send(buffer, ipOffset, ipLength, fragmentInterface, fragmentNextHop);
  }
}
