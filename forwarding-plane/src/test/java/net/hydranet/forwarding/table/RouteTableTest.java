package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  private static final int GATEWAY = 0xC0A80001; // 192.168.0.1
  private final RouteTable table = new RouteTable(16);

  @Test
  void shouldMaskByPrefixLength() {
    assertEquals(0, RouteTable.mask(0));
    assertEquals(0xFF000000, RouteTable.mask(8));
    assertEquals(0xFFFFFFFE, RouteTable.mask(31));
    assertEquals(0xFFFFFFFF, RouteTable.mask(32));
  }

  @Test
  void shouldFindNothingInAnEmptyTable() {
    assertEquals(RouteTable.NOT_FOUND, table.lookup(0x0A000001));
  }

  @Test
  void shouldPreferTheLongestMatchingPrefix() {
    final int defaultRoute = table.add(0, 0, GATEWAY, 1);
    final int net = table.add(0x0A000000, 8, 0x0A000001, 2);
    final int subnet = table.add(0x0A010000, 16, 0, 3);
    final int host = table.add(0x0A010203, 32, 0x0A0000FE, 4);

    assertEquals(defaultRoute, table.lookup(0x08080808));
    assertEquals(net, table.lookup(0x0A020304));
    assertEquals(subnet, table.lookup(0x0A01FFFF));
    assertEquals(host, table.lookup(0x0A010203));
    assertEquals(subnet, table.lookup(0x0A010204));
    assertEquals(4, table.size());
  }

  @Test
  void shouldClearHostBitsOnAdd() {
    final int route = table.add(0x0A0102FF, 24, GATEWAY, 7);

    assertEquals(0x0A010200, table.prefix(route));
    assertEquals(24, table.prefixLength(route));
    assertEquals(GATEWAY, table.nextHop(route));
    assertEquals(7, table.interfaceIndex(route));
    assertEquals(route, table.add(0x0A010200, 24, GATEWAY, 7));
    assertEquals(1, table.size());
  }

  @Test
  void shouldReplaceARouteWithTheSamePrefixAndLength() {
    final int route = table.add(0x0A000000, 8, GATEWAY, 1);

    assertEquals(route, table.add(0x0A000000, 8, 0, 2));

    assertEquals(0, table.nextHop(route));
    assertEquals(2, table.interfaceIndex(route));
    assertEquals(1, table.size());
  }

  @Test
  void shouldUseTheDestinationAsNextHopOfAConnectedRoute() {
    final int connected = table.add(0x0A000000, 8, 0, 1);
    final int viaGateway = table.add(0, 0, GATEWAY, 1);

    assertEquals(0x0A000005, table.nextHopFor(connected, 0x0A000005));
    assertEquals(GATEWAY, table.nextHopFor(viaGateway, 0x08080808));
  }

  @Test
  void shouldFallBackToAShorterPrefixAfterRemove() {
    final int defaultRoute = table.add(0, 0, GATEWAY, 1);
    table.add(0x0A000000, 8, 0, 2);

    assertTrue(table.remove(0x0A123456, 8));
    assertFalse(table.remove(0x0A000000, 8));
    assertFalse(table.remove(0x0A000000, 33));

    assertEquals(defaultRoute, table.lookup(0x0A000001));
    assertTrue(table.remove(0, 0));
    assertEquals(RouteTable.NOT_FOUND, table.lookup(0x0A000001));
    assertEquals(0, table.size());
  }

  @Test
  void shouldReuseTheIndexOfARemovedRoute() {
    final int first = table.add(0x0A000000, 8, 0, 1);
    table.add(0x0B000000, 8, 0, 1);
    table.remove(0x0A000000, 8);

    assertEquals(first, table.add(0x0C000000, 8, 0, 1));
  }

  @Test
  void shouldRejectABadPrefixLengthOrAFullTable() {
    final RouteTable small = new RouteTable(1);
    small.add(0x0A000000, 8, 0, 1);

    assertThrows(IllegalStateException.class, () -> small.add(0x0B000000, 8, 0, 1));
    assertThrows(IllegalStateException.class, () -> small.add(0x0A000000, 33, 0, 1));
    assertThrows(IllegalStateException.class, () -> small.add(0x0A000000, -1, 0, 1));
    assertEquals(0, small.add(0x0A000000, 8, GATEWAY, 2));
    assertEquals(1, small.size());
  }

  @Test
  void shouldVisitEveryRouteInUse() {
    table.add(0x0A000000, 8, 0, 1);
    table.add(0x0B000000, 8, 0, 1);
    table.add(0x0C000000, 8, 0, 1);
    table.remove(0x0B000000, 8);
    final List<Integer> prefixes = new ArrayList<>();

    table.forEach(route -> prefixes.add(table.prefix(route)));

    assertEquals(List.of(0x0A000000, 0x0C000000), prefixes);
  }

  @Test
  void shouldNotAllocateOnLookup() {
    table.add(0, 0, GATEWAY, 1);
    table.add(0x0A000000, 8, 0, 2);
    table.add(0x0A010000, 16, 0, 2);
    table.add(0x0A010200, 24, 0, 2);
    final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (int warm = 0; warm < 2; warm++) {
      final long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 200_000; i++) {
        sink += table.lookup(0x0A010000 + i * 0x10101);
      }
      final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertTrue(allocated < 1024, "lookup allocated " + allocated + " bytes");
    }
    assertTrue(sink > 0);
  }
}
