package net.hydranet.forwarding.table;

/**
 * IPv6 routes with longest-prefix match, the shape of {@link RouteTable} for 128-bit addresses: one
 * hash table keyed by (prefix, length), probed from the longest prefix length in use down to the
 * shortest, skipping lengths no route uses.
 *
 * <p><b>Why this shape.</b> IPv6 tables are sparse in lengths (a router here has /128 hosts, /64
 * links, a /48 or two and /0), so a 129-bit mask of the lengths in use bounds a lookup to one probe
 * per distinct length, with memory proportional to the routes and O(1) add and remove. A multibit
 * trie would bound the probes by the address width instead, which for 128 bits is worse until a
 * table has dozens of distinct lengths. The key is the prefix (host bits cleared) and its length,
 * in an {@link Ipv6KeyMap}; route data lives in flat arrays indexed by route, and freed indices are
 * reused.
 *
 * <p><b>Why a lookup never sees a torn update.</b> The forwarding thread is the only writer: other
 * threads queue commands and the forwarding thread applies them between packets.
 *
 * <p>A rejected change throws {@link IllegalStateException} and leaves the table unchanged.
 */
public final class Ipv6RouteTable extends RouteSlots {
  /** What {@link #lookup} returns when no route covers the address. */
  public static final int NOT_FOUND = -1;

  public static final int MAX_CAPACITY = 1 << 24;

  private final Ipv6KeyMap index;
  private final long[] prefixHighs;
  private final long[] prefixLows;
  private final long[] nextHopHighs;
  private final long[] nextHopLows;
  private final int[] routesPerLength = new int[129];

  // Bit n of lengths0 is length n (0..63), of lengths1 length 64 + n (64..127); has128 for /128.
  private long lengths0;
  private long lengths1;
  private boolean has128;

  /** A table for up to {@code capacity} routes; all memory is allocated here. */
  public Ipv6RouteTable(int capacity) {
    super(capacity, MAX_CAPACITY);
    this.index = new Ipv6KeyMap(capacity);
    this.prefixHighs = new long[capacity];
    this.prefixLows = new long[capacity];
    this.nextHopHighs = new long[capacity];
    this.nextHopLows = new long[capacity];
  }

  /** The mask of the high 64 bits for a prefix length in [0, 128]. */
  public static long maskHigh(int prefixLength) {
    return prefixLength == 0 ? 0 : prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
  }

  /** The mask of the low 64 bits for a prefix length in [0, 128]. */
  public static long maskLow(int prefixLength) {
    return prefixLength <= 64 ? 0 : -1L << (128 - prefixLength);
  }

  /**
   * The route with the longest prefix covering the address, or {@link #NOT_FOUND}. Allocation-free;
   * one hash probe per distinct prefix length longer than the match.
   */
  public int lookup(long high, long low) {
    if (has128) {
      int route = index.get(high, low, 128);
      if (route != Ipv6KeyMap.MISSING) {
        return route;
      }
    }
    long lengths = lengths1;
    while (lengths != 0) {
      final int bit = 63 - Long.numberOfLeadingZeros(lengths);
      final int length = 64 + bit;
      final int route = index.get(high, low & maskLow(length), length);
      if (route != Ipv6KeyMap.MISSING) {
        return route;
      }
      lengths ^= 1L << bit;
    }
    lengths = lengths0;
    while (lengths != 0) {
      final int length = 63 - Long.numberOfLeadingZeros(lengths);
      final int route = index.get(high & maskHigh(length), 0, length);
      if (route != Ipv6KeyMap.MISSING) {
        return route;
      }
      lengths ^= 1L << length;
    }
    return NOT_FOUND;
  }

  /**
   * Adds a route, or replaces the next hop and interface of the route with the same prefix and
   * length (keeping its index). Host bits beyond the prefix length are cleared. Forwarding thread
   * only.
   *
   * @param nextHopHigh with {@code nextHopLow}, the gateway, or :: for a connected network
   * @return the route index
   * @throws IllegalStateException when the length is outside [0, 128] or the table is full
   */
  public int add(
      long prefixHigh,
      long prefixLow,
      int prefixLength,
      long nextHopHigh,
      long nextHopLow,
      int interfaceIndex) {
    if (prefixLength < 0 || prefixLength > 128) {
      throw new IllegalStateException("prefix length must be in [0, 128], was " + prefixLength);
    }
    final long high = prefixHigh & maskHigh(prefixLength);
    final long low = prefixLow & maskLow(prefixLength);
    int route = index.get(high, low, prefixLength);
    if (route == Ipv6KeyMap.MISSING) {
      if (index.size() == capacity) {
        throw new IllegalStateException("IPv6 route table is full: capacity " + capacity);
      }
      route = newRoute();
      prefixHighs[route] = high;
      prefixLows[route] = low;
      prefixLengths[route] = prefixLength;
      index.put(high, low, prefixLength, route);
      if (routesPerLength[prefixLength]++ == 0) {
        setLength(prefixLength, true);
      }
    }
    nextHopHighs[route] = nextHopHigh;
    nextHopLows[route] = nextHopLow;
    interfaceIndexes[route] = interfaceIndex;
    return route;
  }

  /**
   * Removes the route with this prefix (host bits ignored) and length. Forwarding thread only.
   *
   * @return false when there is no such route or the length is outside [0, 128]
   */
  public boolean remove(long prefixHigh, long prefixLow, int prefixLength) {
    if (prefixLength < 0 || prefixLength > 128) {
      return false;
    }
    final int route =
        index.remove(
            prefixHigh & maskHigh(prefixLength), prefixLow & maskLow(prefixLength), prefixLength);
    if (route == Ipv6KeyMap.MISSING) {
      return false;
    }
    if (--routesPerLength[prefixLength] == 0) {
      setLength(prefixLength, false);
    }
    freeRoute(route);
    return true;
  }

  private void setLength(int length, boolean inUse) {
    if (length == 128) {
      has128 = inUse;
    } else if (length >= 64) {
      lengths1 = inUse ? lengths1 | (1L << (length - 64)) : lengths1 & ~(1L << (length - 64));
    } else {
      lengths0 = inUse ? lengths0 | (1L << length) : lengths0 & ~(1L << length);
    }
  }

  public long prefixHigh(int route) {
    return prefixHighs[route];
  }

  public long prefixLow(int route) {
    return prefixLows[route];
  }

  /** The gateway's high half; :: (both halves 0) means directly connected. */
  public long nextHopHigh(int route) {
    return nextHopHighs[route];
  }

  public long nextHopLow(int route) {
    return nextHopLows[route];
  }

  /** True for a connected route: the destination itself is the neighbour to resolve. */
  public boolean isConnected(int route) {
    return nextHopHighs[route] == 0 && nextHopLows[route] == 0;
  }

  public int size() {
    return index.size();
  }
}
