package net.hydranet.harness.flows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.hydranet.forwarding.table.Maglev;
import net.hydranet.forwarding.table.RedirectorTable;
import org.junit.jupiter.api.Test;

/**
 * Maglev as the forwarding plane uses it: two redirectors that build their tables independently
 * agree on every flow, removing one of N host servers moves the flows it served and few others, and
 * weights are honoured. Figures go to the test output.
 */
class ConsistentHashTest {
  private static final int FLOWS = 1_000_000;
  private static final int TCP = 6;
  private static final int ADDRESS = 0xC6120210;

  private static RedirectorTable table(int[] hosts, int[] weights) {
    RedirectorTable t = new RedirectorTable(16, 8);
    byte[] lookup = Maglev.build(hosts, weights, hosts.length, t.maglevSize());
    t.put(ADDRESS, TCP, 80, hosts, weights, hosts.length, lookup);
    return t;
  }

  private static int[] hosts(int n) {
    int[] h = new int[n];
    for (int i = 0; i < n; i++) {
      h[i] = 0xC6120300 + 2 + i;
    }
    return h;
  }

  private static int[] ones(int n) {
    int[] w = new int[n];
    java.util.Arrays.fill(w, 1);
    return w;
  }

  @Test
  void shouldAgreeOnEveryFlowWhenTwoRedirectorsBuildTheSameTable() {
    int[] hosts = hosts(7);
    int[] reversed = new int[7];
    for (int i = 0; i < 7; i++) {
      reversed[i] = hosts[6 - i];
    }
    RedirectorTable a = table(hosts, ones(7));
    RedirectorTable b = table(reversed, ones(7));
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < FLOWS; i++) {
      int hash = random.nextInt();
      assertEquals(a.select(0, hash), b.select(0, hash), "flow " + i);
    }
  }

  @Test
  void shouldMoveOnlyAboutOneNthOfFlowsWhenOneOfNHostServersIsRemoved() {
    for (int n : new int[] {2, 4, 8}) {
      int[] hosts = hosts(n);
      RedirectorTable before = table(hosts, ones(n));
      int removed = hosts[n / 2];
      int[] left = new int[n - 1];
      for (int i = 0, j = 0; i < n; i++) {
        if (hosts[i] != removed) {
          left[j++] = hosts[i];
        }
      }
      RedirectorTable after = table(left, ones(n - 1));
      SplittableRandom random = new SplittableRandom(7);
      long served = 0;
      long moved = 0;
      long otherMoved = 0;
      for (int i = 0; i < FLOWS; i++) {
        int hash = random.nextInt();
        int was = before.select(0, hash);
        int is = after.select(0, hash);
        if (was == removed) {
          served++;
        } else if (was != is) {
          otherMoved++;
        }
        if (was != is) {
          moved++;
        }
      }
      double fraction = (double) moved / FLOWS;
      double others = (double) otherMoved / (FLOWS - served);
      System.out.printf(
          "maglev %d entries, remove 1 of %d: %.4f of flows moved (ideal %.4f); %.4f of flows on"
              + " the remaining host servers moved%n",
          before.maglevSize(), n, fraction, 1.0 / n, others);
      assertEquals(1.0 / n, (double) served / FLOWS, 0.01, "the removed one's share");
      assertTrue(fraction < 1.0 / n + 0.03, "moved " + fraction);
      assertTrue(others < 0.03, "flows of other host servers moved: " + others);
    }
  }

  @Test
  void shouldShareFlowsInProportionToWeight() {
    int[] hosts = hosts(3);
    RedirectorTable t = table(hosts, new int[] {1, 2, 5});
    long[] count = new long[3];
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < FLOWS; i++) {
      int h = t.select(0, random.nextInt());
      count[h - hosts[0]]++;
    }
    assertEquals(1.0 / 8, (double) count[0] / FLOWS, 0.005);
    assertEquals(2.0 / 8, (double) count[1] / FLOWS, 0.005);
    assertEquals(5.0 / 8, (double) count[2] / FLOWS, 0.005);
  }
}
