package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Applies one seeded random script of route adds, removes and lookups to {@link Ipv6RouteTable} and
 * {@link ReferenceIpv6RouteTable}; every lookup must find the same route. Prefixes are drawn around
 * a few clustered addresses so they nest and overlap — in the high half, the low half and across
 * the /64 boundary — with ::/0 and /128 host routes among them.
 */
class Ipv6RouteTableDifferentialTest {
  private static final int OPERATIONS = 60_000;
  private static final int CAPACITY = 600;
  private static final int[] LENGTHS = {
    0, 1, 16, 32, 47, 48, 56, 63, 64, 64, 65, 80, 96, 112, 120, 127, 128, 128
  };

  private final Random random = new Random(0x1B76_526FL);
  private final long[][] clusters = new long[8][2];
  private final Ipv6RouteTable table = new Ipv6RouteTable(CAPACITY);
  private final ReferenceIpv6RouteTable reference = new ReferenceIpv6RouteTable(CAPACITY);

  @Test
  void shouldFindTheSameRouteAsTheReferenceForEveryLookup() {
    for (long[] cluster : clusters) {
      cluster[0] = random.nextLong();
      cluster[1] = random.nextLong();
    }
    int found = 0;
    int full = 0;
    long[] a = new long[2];
    for (int op = 0; op < OPERATIONS; op++) {
      final String where = "operation " + op;
      final int dice = random.nextInt(100);
      randomAddress(a);
      final BigInteger address = ReferenceIpv6RouteTable.address(a[0], a[1]);
      if (dice < 25) {
        final int length = randomLength();
        final long hopHigh = random.nextInt(4) == 0 ? 0 : random.nextLong();
        final long hopLow = hopHigh == 0 ? 0 : random.nextLong();
        final int interfaceIndex = random.nextInt(4);
        boolean rejected = false;
        try {
          reference.add(
              address, length, ReferenceIpv6RouteTable.address(hopHigh, hopLow), interfaceIndex);
        } catch (IllegalStateException e) {
          rejected = true;
          full++;
        }
        try {
          final int route = table.add(a[0], a[1], length, hopHigh, hopLow, interfaceIndex);
          assertEquals(false, rejected, where + ": add accepted");
          assertEquals(length, table.prefixLength(route), where);
        } catch (IllegalStateException e) {
          assertEquals(true, rejected, where + ": add rejected");
        }
      } else if (dice < 40) {
        final int length = randomLength();
        assertEquals(reference.remove(address, length), table.remove(a[0], a[1], length), where);
      } else {
        final ReferenceIpv6RouteTable.Route expected = reference.lookup(address);
        final int route = table.lookup(a[0], a[1]);
        if (expected == null) {
          assertEquals(Ipv6RouteTable.NOT_FOUND, route, where + ": lookup found a route");
        } else {
          found++;
          assertTrue(route != Ipv6RouteTable.NOT_FOUND, where + ": lookup found nothing");
          assertEquals(expected.prefixLength(), table.prefixLength(route), where + ": length");
          assertEquals(
              expected.prefix(),
              ReferenceIpv6RouteTable.address(table.prefixHigh(route), table.prefixLow(route)),
              where + ": prefix");
          assertEquals(
              expected.nextHop(),
              ReferenceIpv6RouteTable.address(table.nextHopHigh(route), table.nextHopLow(route)),
              where + ": next hop");
          assertEquals(expected.interfaceIndex(), table.interfaceIndex(route), where + ": if");
        }
      }
      assertEquals(reference.size(), table.size(), where + ": size");
    }
    final int[] visited = {0};
    table.forEach(
        route -> {
          assertNotNull(
              reference.lookup(
                  ReferenceIpv6RouteTable.address(
                      table.prefixHigh(route), table.prefixLow(route))));
          visited[0]++;
        });
    assertEquals(reference.size(), visited[0]);
    assertTrue(found > 20_000 && full > 50, found + " found, " + full + " rejected as full");
  }

  /** Mostly near a cluster (differing in a few high or low bits), sometimes anywhere. */
  private void randomAddress(long[] a) {
    if (random.nextInt(10) == 0) {
      a[0] = random.nextLong();
      a[1] = random.nextLong();
      return;
    }
    final long[] cluster = clusters[random.nextInt(clusters.length)];
    a[0] = cluster[0];
    a[1] = cluster[1];
    switch (random.nextInt(4)) {
      case 0:
        a[0] ^= random.nextInt(1 << 16); // within a /48's subnets
        a[1] = random.nextLong();
        break;
      case 1:
        a[1] ^= random.nextInt(1 << 12); // hosts of one /64
        break;
      case 2:
        a[1] ^= random.nextLong() >>> random.nextInt(64); // anywhere in the low half
        break;
      default:
        break; // the cluster's own address: /128 hits
    }
  }

  private int randomLength() {
    return random.nextInt(5) == 0 ? random.nextInt(129) : LENGTHS[random.nextInt(LENGTHS.length)];
  }
}
