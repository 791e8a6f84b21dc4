package net.hydranet.forwarding.table;

import java.util.Arrays;

/**
 * The route slots both route tables share: the per-route arrays of prefix length and interface
 * indexed by route, the free list that reuses a removed route's index, and the walk over routes in
 * use. {@link RouteTable} and {@link Ipv6RouteTable} extend it, so a lookup still reads its fields
 * from the one table object.
 */
public abstract class RouteSlots {
  static final int FREE = -1;

  final int capacity;
  final int[] prefixLengths;
  final int[] interfaceIndexes;
  private final int[] freeRoutes;
  private int freeCount;
  private int highWater;

  /** Checks {@code capacity} against {@code maxCapacity} and allocates the shared arrays. */
  RouteSlots(int capacity, int maxCapacity) {
    if (capacity < 1 || capacity > maxCapacity) {
      throw new IllegalArgumentException(
          "capacity must be in [1, " + maxCapacity + "], was " + capacity);
    }
    this.capacity = capacity;
    this.prefixLengths = new int[capacity];
    Arrays.fill(prefixLengths, FREE);
    this.interfaceIndexes = new int[capacity];
    this.freeRoutes = new int[capacity];
  }

  /** A route index for a new route: the last one freed, else the next never used. */
  final int newRoute() {
    return freeCount > 0 ? freeRoutes[--freeCount] : highWater++;
  }

  /** Marks a removed route's index free for reuse. */
  final void freeRoute(int route) {
    prefixLengths[route] = FREE;
    freeRoutes[freeCount++] = route;
  }

  public final int prefixLength(int route) {
    return prefixLengths[route];
  }

  public final int interfaceIndex(int route) {
    return interfaceIndexes[route];
  }

  public final int capacity() {
    return capacity;
  }

  /** Visits every route in use, in index order; for snapshots, off the hot path. */
  public final void forEach(RouteVisitor visitor) {
    final int highWater = this.highWater;
    for (int route = 0; route < highWater; route++) {
      if (prefixLengths[route] != FREE) {
        visitor.visit(route);
      }
    }
  }
}
