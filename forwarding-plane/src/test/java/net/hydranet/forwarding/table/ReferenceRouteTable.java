package net.hydranet.forwarding.table;

import java.util.ArrayList;
import java.util.List;

/** The route table's oracle: a list scanned end to end for the longest matching prefix. */
final class ReferenceRouteTable {
  record Route(int prefix, int prefixLength, int nextHop, int interfaceIndex) {}

  private final int capacity;
  private final List<Route> routes = new ArrayList<>();

  ReferenceRouteTable(int capacity) {
    this.capacity = capacity;
  }

  private static boolean covers(int prefix, int prefixLength, int address) {
    return prefixLength == 0
        || (prefix >>> (32 - prefixLength)) == (address >>> (32 - prefixLength));
  }

  private static int clearHostBits(int prefix, int prefixLength) {
    return prefixLength == 0 ? 0 : (prefix >>> (32 - prefixLength)) << (32 - prefixLength);
  }

  /** The longest matching route, or null. */
  Route lookup(int address) {
    Route best = null;
    for (Route route : routes) {
      if (covers(route.prefix(), route.prefixLength(), address)
          && (best == null || route.prefixLength() > best.prefixLength())) {
        best = route;
      }
    }
    return best;
  }

  void add(int prefix, int prefixLength, int nextHop, int interfaceIndex) {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalStateException("bad prefix length");
    }
    final Route route =
        new Route(clearHostBits(prefix, prefixLength), prefixLength, nextHop, interfaceIndex);
    for (int i = 0; i < routes.size(); i++) {
      if (routes.get(i).prefix() == route.prefix()
          && routes.get(i).prefixLength() == prefixLength) {
        routes.set(i, route);
        return;
      }
    }
    if (routes.size() == capacity) {
      throw new IllegalStateException("full");
    }
    routes.add(route);
  }

  boolean remove(int prefix, int prefixLength) {
    if (prefixLength < 0 || prefixLength > 32) {
      return false;
    }
    final int masked = clearHostBits(prefix, prefixLength);
    return routes.removeIf(r -> r.prefix() == masked && r.prefixLength() == prefixLength);
  }

  int size() {
    return routes.size();
  }
}
