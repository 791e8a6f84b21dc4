package net.hydranet.forwarding.table;

import org.agrona.collections.Long2LongHashMap;

/**
 * IPv4 routes with longest-prefix match: one hash table keyed by (prefix, length), probed from the
 * longest prefix length in use down to the shortest, skipping lengths no route uses.
 *
 * <p><b>Why this shape.</b> A 33-bit mask of the lengths in use bounds a lookup to one hash probe
 * per distinct length (a typical table has a handful: /0, /8, /16, /24, /32), with memory
 * proportional to the routes and O(1) add and remove. DIR-24-8 would answer in one or two loads but
 * costs 32 MB or more whatever the table holds, and an add or remove of a short prefix rewrites up
 * to 2^24 slots; for a few to thousands of routes that is the wrong trade. One Agrona {@link
 * Long2LongHashMap} serves every length (the length is part of the key), presized at load factor
 * 0.5 so it never rehashes. Route data lives in flat arrays indexed by route; freed indices are
 * reused.
 *
 * <p><b>Why a lookup never sees a torn update.</b> The forwarding thread is the only writer: other
 * threads queue commands and the forwarding thread applies them between packets, so {@link #lookup}
 * never runs concurrently with {@link #add} or {@link #remove}.
 *
 * <p>A rejected change throws {@link IllegalStateException} and leaves the table unchanged.
 */
public final class RouteTable extends RouteSlots {
  /** What {@link #lookup} returns when no route covers the address. */
  public static final int NOT_FOUND = -1;

  /** Largest capacity, so that the map's array stays within int indices. */
  public static final int MAX_CAPACITY = 1 << 26;

  private static final float LOAD_FACTOR = 0.5f;

  private final Long2LongHashMap index;
  private final int[] prefixes;
  private final int[] nextHops;
  private final int[] routesPerLength = new int[33];

  /** Bit {@code n} is set when at least one route has prefix length {@code n}. */
  private long lengthsInUse;

  /** A table for up to {@code capacity} routes; all memory is allocated here. */
  public RouteTable(int capacity) {
    super(capacity, MAX_CAPACITY);
    this.index = new Long2LongHashMap((int) (capacity / LOAD_FACTOR), LOAD_FACTOR, NOT_FOUND);
    this.prefixes = new int[capacity];
    this.nextHops = new int[capacity];
  }

  /** The network mask of a prefix length in [0, 32]: 0 for /0, -1 for /32. */
  public static int mask(int prefixLength) {
    return (int) (0xFFFFFFFF00000000L >>> prefixLength);
  }

  private static long key(int maskedPrefix, int prefixLength) {
    return ((maskedPrefix & 0xFFFFFFFFL) << 6) | prefixLength;
  }

  /**
   * The route with the longest prefix covering {@code address}, or {@link #NOT_FOUND}.
   * Allocation-free; one hash probe per distinct prefix length longer than the match.
   */
  public int lookup(int address) {
    long lengths = lengthsInUse;
    while (lengths != 0) {
      final int length = 63 - Long.numberOfLeadingZeros(lengths);
      final long route = index.get(key(address & mask(length), length));
      if (route != NOT_FOUND) {
        return (int) route;
      }
      lengths ^= 1L << length;
    }
    return NOT_FOUND;
  }

  /** The next hop of a route; 0 means directly connected (see {@link #nextHopFor}). */
  public int nextHop(int route) {
    return nextHops[route];
  }

  /** The address to resolve for a packet to {@code destination}: the destination when connected. */
  public int nextHopFor(int route, int destination) {
    final int nextHop = nextHops[route];
    return nextHop == 0 ? destination : nextHop;
  }

  /** The route's prefix, host bits cleared. */
  public int prefix(int route) {
    return prefixes[route];
  }

  /**
   * Adds a route, or replaces the next hop and interface of the route with the same prefix and
   * length (keeping its index). Host bits beyond the prefix length are cleared. Forwarding thread
   * only.
   *
   * @param nextHop the gateway, or 0 for a directly connected network.
   * @return the route index.
   * @throws IllegalStateException when the prefix length is outside [0, 32] or the table is full.
   */
  public int add(int prefix, int prefixLength, int nextHop, int interfaceIndex) {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalStateException("prefix length must be in [0, 32], was " + prefixLength);
    }
    final int masked = prefix & mask(prefixLength);
    final long key = key(masked, prefixLength);
    int route = (int) index.get(key);
    if (route == NOT_FOUND) {
      if (index.size() == capacity) {
        throw new IllegalStateException("route table is full: capacity " + capacity);
      }
      route = newRoute();
      prefixes[route] = masked;
      prefixLengths[route] = prefixLength;
      index.put(key, route);
      routesPerLength[prefixLength]++;
      lengthsInUse |= 1L << prefixLength;
    }
    nextHops[route] = nextHop;
    interfaceIndexes[route] = interfaceIndex;
    return route;
  }

  /**
   * Removes the route with this prefix (host bits ignored) and length. Forwarding thread only.
   *
   * @return false when there is no such route or the length is outside [0, 32].
   */
  public boolean remove(int prefix, int prefixLength) {
    if (prefixLength < 0 || prefixLength > 32) {
      return false;
    }
    final int route = (int) index.remove(key(prefix & mask(prefixLength), prefixLength));
    if (route == NOT_FOUND) {
      return false;
    }
    if (--routesPerLength[prefixLength] == 0) {
      lengthsInUse &= ~(1L << prefixLength);
    }
    freeRoute(route);
    return true;
  }

  /** Number of routes in the table. */
  public int size() {
    return index.size();
  }
}
