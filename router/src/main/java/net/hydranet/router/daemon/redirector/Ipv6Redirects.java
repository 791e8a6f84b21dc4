package net.hydranet.router.daemon.redirector;

import net.hydranet.forwarding.ForwardingPlane;

/**
 * The control plane's IPv6 table writes, bound to the forwarding plane's IPv6 services: learned
 * IPv6 services are written as the IPv4 ones are, through the same command queue; their host
 * servers are IPv4 control addresses, so the plane sends them IPv6-in-IPv4 (IPV6.md §1).
 */
public final class Ipv6Redirects {
  private Ipv6Redirects() {}

  public static void put(
      ForwardingPlane plane,
      long high,
      long low,
      int protocol,
      int port,
      int[] hostServers,
      int[] weights) {
    plane.addRedirect6(high, low, protocol, port, hostServers, weights);
  }

  public static void remove(ForwardingPlane plane, long high, long low, int protocol, int port) {
    plane.removeRedirect6(high, low, protocol, port);
  }
}
