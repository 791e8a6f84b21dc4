package net.hydranet.router.config;

import java.util.List;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.ForwardingContext;

/**
 * A loaded redirector configuration: the forwarding context plus the table contents it starts with.
 */
public record RedirectorConfig(
    ForwardingContext context,
    List<Route> routes,
    List<Neighbour> neighbours,
    List<Redirect> redirects) {

  /** A static route; {@code nextHop} 0 means on-link. */
  public record Route(int prefix, int length, int nextHop, int interfaceIndex) {}

  /** A static neighbour. */
  public record Neighbour(int address, long mac, int interfaceIndex) {}

  /** A replicated service and its host servers. */
  public record Redirect(int address, int protocol, int port, int[] hostServers, int[] weights) {}

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
  }
}
