package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast Maglev build against the paper's algorithm written out plainly. */
class MaglevTest {
  /** Full permutations, then turns in address order; the heaviest one entry per round. */
  private static byte[] reference(int[] hosts, int[] weights, int m) {
    byte[] table = new byte[m];
    java.util.Arrays.fill(table, (byte) -1);
    List<Integer> order = new ArrayList<>();
    int maxWeight = 0;
    for (int i = 0; i < hosts.length; i++) {
      if (weights[i] > 0) {
        order.add(i);
        maxWeight = Math.max(maxWeight, weights[i]);
      }
    }
    if (order.isEmpty()) {
      return table;
    }
    order.sort((a, b) -> Integer.compareUnsigned(hosts[a], hosts[b]));
    long[][] permutation = new long[hosts.length][m];
    for (int i : order) {
      long offset = Maglev.offset(hosts[i], m);
      long skip = Maglev.skip(hosts[i], m);
      for (int j = 0; j < m; j++) {
        permutation[i][j] = (offset + j * skip) % m;
      }
    }
    int[] next = new int[hosts.length];
    long[] credit = new long[hosts.length];
    int filled = 0;
    while (filled < m) {
      for (int i : order) {
        credit[i] += weights[i];
        while (credit[i] >= maxWeight && filled < m) {
          credit[i] -= maxWeight;
          while (table[(int) permutation[i][next[i]]] != -1) {
            next[i]++;
          }
          table[(int) permutation[i][next[i]]] = (byte) i;
          next[i]++;
          filled++;
        }
      }
    }
    return table;
  }

  @Test
  void shouldBuildTheSameTableAsThePlainAlgorithm() {
    Random random = new Random(5);
    for (int round = 0; round < 50; round++) {
      int n = 1 + random.nextInt(8);
      int[] hosts = new int[n];
      int[] weights = new int[n];
      for (int i = 0; i < n; i++) {
        hosts[i] = random.nextInt() | 1;
        weights[i] = random.nextInt(4);
      }
      int m = round % 2 == 0 ? 251 : Maglev.DEFAULT_SIZE;
      assertArrayEquals(reference(hosts, weights, m), Maglev.build(hosts, weights, n, m));
    }
  }

  @Test
  void shouldLeaveEveryEntryEmptyWhenEveryWeightIsZero() {
    byte[] table = Maglev.build(new int[] {1, 2}, new int[] {0, 0}, 2, 13);
    for (byte b : table) {
      assertEquals(Maglev.NONE, b);
    }
  }

  @Test
  void shouldRejectASizeThatIsNotPrime() {
    assertThrows(
        IllegalArgumentException.class, () -> Maglev.build(new int[] {1}, new int[] {1}, 1, 4096));
  }
}
