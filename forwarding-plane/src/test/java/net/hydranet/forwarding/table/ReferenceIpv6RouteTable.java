package net.hydranet.forwarding.table;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The IPv6 route table's oracle: a list scanned end to end for the longest matching prefix, with
 * addresses as {@link BigInteger}s so that none of the fast table's mask arithmetic is reused.
 */
final class ReferenceIpv6RouteTable {
  record Route(BigInteger prefix, int prefixLength, BigInteger nextHop, int interfaceIndex) {}

  private final int capacity;
  private final List<Route> routes = new ArrayList<>();

  ReferenceIpv6RouteTable(int capacity) {
    this.capacity = capacity;
  }

  static BigInteger address(long high, long low) {
    return new BigInteger(1, java.nio.ByteBuffer.allocate(16).putLong(high).putLong(low).array());
  }

  private static BigInteger clearHostBits(BigInteger address, int prefixLength) {
    return address.shiftRight(128 - prefixLength).shiftLeft(128 - prefixLength);
  }

  /** The longest matching route, or null. */
  Route lookup(BigInteger address) {
    Route best = null;
    for (Route route : routes) {
      if (clearHostBits(address, route.prefixLength()).equals(route.prefix())
          && (best == null || route.prefixLength() > best.prefixLength())) {
        best = route;
      }
    }
    return best;
  }

  void add(BigInteger prefix, int prefixLength, BigInteger nextHop, int interfaceIndex) {
    if (prefixLength < 0 || prefixLength > 128) {
      throw new IllegalStateException("bad prefix length");
    }
    Route route =
        new Route(clearHostBits(prefix, prefixLength), prefixLength, nextHop, interfaceIndex);
    for (int i = 0; i < routes.size(); i++) {
      if (routes.get(i).prefix().equals(route.prefix())
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

  boolean remove(BigInteger prefix, int prefixLength) {
    if (prefixLength < 0 || prefixLength > 128) {
      return false;
    }
    BigInteger cleared = clearHostBits(prefix, prefixLength);
    return routes.removeIf(r -> r.prefixLength() == prefixLength && r.prefix().equals(cleared));
  }

  int size() {
    return routes.size();
  }
}
