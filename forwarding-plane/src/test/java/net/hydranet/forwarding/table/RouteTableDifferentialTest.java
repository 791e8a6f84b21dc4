package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Applies one seeded random script of route adds, removes and lookups to {@link RouteTable} and
 * {@link ReferenceRouteTable}; every lookup must find the same route. Prefixes are drawn around a
 * few clustered addresses so they overlap, with /0 default routes and /32 host routes among them.
 */
class RouteTableDifferentialTest {
  private static final int OPERATIONS = 200_000;
  private static final int CAPACITY = 1_500;
  private static final int[] LENGTHS = {0, 1, 8, 12, 16, 20, 23, 24, 25, 28, 30, 31, 32, 32};

  private final Random random = new Random(0x526f757465L);
  private final int[] clusters = new int[8];
  private final RouteTable table = new RouteTable(CAPACITY);
  private final ReferenceRouteTable reference = new ReferenceRouteTable(CAPACITY);

  @Test
  void shouldFindTheSameRouteAsTheReferenceForEveryLookup() {
    for (int i = 0; i < clusters.length; i++) {
      clusters[i] = random.nextInt();
    }
    int found = 0;
    int full = 0;
    for (int op = 0; op < OPERATIONS; op++) {
      final String where = "operation " + op;
      final int dice = random.nextInt(100);
      if (dice < 25) {
        final int prefix = randomAddress();
        final int length = randomLength();
        final int nextHop = random.nextInt(4) == 0 ? 0 : random.nextInt();
        final int interfaceIndex = random.nextInt(4);
        boolean rejected = false;
        try {
          reference.add(prefix, length, nextHop, interfaceIndex);
        } catch (IllegalStateException e) {
          rejected = true;
          full++;
        }
        try {
          final int route = table.add(prefix, length, nextHop, interfaceIndex);
          assertEquals(false, rejected, where + ": add accepted");
          assertEquals(prefix & RouteTable.mask(length), table.prefix(route), where);
        } catch (IllegalStateException e) {
          assertEquals(true, rejected, where + ": add rejected");
        }
      } else if (dice < 40) {
        final int prefix = randomAddress();
        final int length = randomLength();
        assertEquals(
            reference.remove(prefix, length), table.remove(prefix, length), where + ": remove");
      } else {
        final int address = randomAddress();
        final ReferenceRouteTable.Route expected = reference.lookup(address);
        final int route = table.lookup(address);
        if (expected == null) {
          assertEquals(RouteTable.NOT_FOUND, route, where + ": lookup found a route");
        } else {
          found++;
          assertTrue(route != RouteTable.NOT_FOUND, where + ": lookup found nothing");
          assertEquals(expected.prefixLength(), table.prefixLength(route), where + ": length");
          assertEquals(expected.prefix(), table.prefix(route), where + ": prefix");
          assertEquals(expected.nextHop(), table.nextHop(route), where + ": next hop");
          assertEquals(expected.interfaceIndex(), table.interfaceIndex(route), where + ": if");
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
    final int[] visited = {0};
    table.forEach(
        route -> {
          assertNotNull(reference.lookup(table.prefix(route)));
          visited[0]++;
        });
    assertEquals(reference.size(), visited[0]);
    assertTrue(found > 50_000 && full > 100, found + " found, " + full + " rejected as full");
  }

  /** Mostly near a cluster, so prefixes nest and overlap; sometimes anywhere. */
  private int randomAddress() {
    if (random.nextInt(10) == 0) {
      return random.nextInt();
    }
    final int cluster = clusters[random.nextInt(clusters.length)];
    final int spread = random.nextInt(4) == 0 ? 24 : 10;
    return cluster ^ random.nextInt(1 << spread);
  }

  private int randomLength() {
    return random.nextInt(5) == 0 ? random.nextInt(33) : LENGTHS[random.nextInt(LENGTHS.length)];
  }
}
