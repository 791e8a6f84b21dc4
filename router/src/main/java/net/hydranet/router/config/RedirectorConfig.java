package net.hydranet.router.config;

import java.util.List;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * A loaded redirector configuration: the forwarding context (interfaces with their IPv4 and IPv6
 * addresses) plus the table contents it starts with, IPv4 and IPv6 side by side.
 */
public record RedirectorConfig(
    ForwardingContext context,
    List<Route> routes,
    List<Neighbour> neighbours,
    List<Redirect> redirects,
    List<Route6> routes6,
    List<Neighbour6> neighbours6,
    List<Redirect6> redirects6) {

  /** An IPv4-only configuration. */
  public RedirectorConfig(
      ForwardingContext context,
      List<Route> routes,
      List<Neighbour> neighbours,
      List<Redirect> redirects) {
    this(context, routes, neighbours, redirects, List.of(), List.of(), List.of());
  }

  /** A static route; {@code nextHop} 0 means on-link. */
  public record Route(int prefix, int length, int nextHop, int interfaceIndex) {}

  /** A static neighbour. */
  public record Neighbour(int address, long mac, int interfaceIndex) {}

  /** A replicated service and its host servers. */
  public record Redirect(int address, int protocol, int port, int[] hostServers, int[] weights) {}

  /** A static IPv6 route; a next hop of :: (both halves 0) means on-link. */
  public record Route6(
      long prefixHigh,
      long prefixLow,
      int length,
      long nextHopHigh,
      long nextHopLow,
      int interfaceIndex) {}

  /** A static IPv6 neighbour. */
  public record Neighbour6(long high, long low, long mac, int interfaceIndex) {}

  /**
   * A host server of an IPv6 service: an IPv4 address ({@code ipv4} not 0), reached in IPv6-in-IPv4
   * (protocol 41, the design's default: control-plane/IPV6.md §1), or an IPv6 address ({@code ipv4}
   * 0), reached in IPv6-in-IPv6 (RFC 2473).
   */
  public record HostServer(int ipv4, long ipv6High, long ipv6Low, int weight) {
    /** True for a host server reached in IPv6-in-IPv6. */
    public boolean isIpv6() {
      return ipv4 == 0;
    }

    @Override
    public String toString() {
      return (isIpv6()
              ? Ipv6Header.formatAddress(ipv6High, ipv6Low)
              : Ipv4Header.formatAddress(ipv4))
          + " weight "
          + weight;
    }
  }

  /** A replicated IPv6 service access point and its host servers. */
  public record Redirect6(
      long addressHigh, long addressLow, int protocol, int port, List<HostServer> hostServers) {
    /** The service as written in the config: [ADDRESS]:PORT/PROTOCOL. */
    public String service() {
      return "["
          + Ipv6Header.formatAddress(addressHigh, addressLow)
          + "]:"
          + port
          + "/"
          + (protocol == Ipv6Header.NEXT_HEADER_TCP ? "tcp" : "udp");
    }
  }

  /** Loads the tables into a forwarding plane (before it starts, they apply at once). */
  public void applyTo(ForwardingPlane plane) {
    for (Route r : routes) {
      plane.addRoute(r.prefix(), r.length(), r.nextHop(), r.interfaceIndex());
    }
    for (Neighbour n : neighbours) {
      plane.addNeighbour(n.address(), n.mac(), n.interfaceIndex());
    }
    for (Redirect r : redirects) {
      plane.addRedirect(r.address(), r.protocol(), r.port(), r.hostServers(), r.weights());
    }
    applyTo6(plane);
  }

  /** Loads the IPv6 routes, neighbours and redirects. */
  public void applyTo6(ForwardingPlane plane) {
    for (Route6 r : routes6) {
      plane.addRoute6(
          r.prefixHigh(),
          r.prefixLow(),
          r.length(),
          r.nextHopHigh(),
          r.nextHopLow(),
          r.interfaceIndex());
    }
    for (Neighbour6 n : neighbours6) {
      plane.addNeighbour6(n.high(), n.low(), n.mac(), n.interfaceIndex());
    }
    for (Redirect6 r : redirects6) {
      apply(plane, r);
    }
  }

  /** Puts one IPv6 service into the plane, its IPv6 host servers named by their ids. */
  public static void apply(ForwardingPlane plane, Redirect6 r) {
    plane.addRedirect6(
        r.addressHigh(), r.addressLow(), r.protocol(), r.port(), hostServers(plane, r), weights(r));
  }

  /**
   * An IPv6 service's host servers as the plane's table holds them: an IPv4 address, or the plane's
   * id of an IPv6 host server ({@link ForwardingPlane#ipv6HostServer}).
   */
  public static int[] hostServers(ForwardingPlane plane, Redirect6 r) {
    int[] servers = new int[r.hostServers().size()];
    for (int i = 0; i < servers.length; i++) {
      HostServer h = r.hostServers().get(i);
      servers[i] = h.isIpv6() ? plane.ipv6HostServer(h.ipv6High(), h.ipv6Low()) : h.ipv4();
    }
    return servers;
  }

  /** An IPv6 service's weights, in the order of its host servers. */
  public static int[] weights(Redirect6 r) {
    int[] weights = new int[r.hostServers().size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = r.hostServers().get(i).weight();
    }
    return weights;
  }
}
