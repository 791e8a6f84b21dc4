package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The redirector table's IPv6 index (control-plane/IPV6.md §3): a second index into the same
 * service records, so a service of either family has the same host servers, weights, Maglev table
 * and counters.
 */
class RedirectorTable6Test {
  private static final int TCP = 6;
  private static final int UDP = 17;
  private static final long HIGH = 0x2001_0002_0000_0002L; // 2001:2:0:2::10
  private static final long LOW = 0x10;
  private static final int V4 = 0xC6120210; // 198.18.2.16: low bits as LOW's, to catch aliasing
  private static final int HOST_A = 0xC6120302;
  private static final int HOST_B = 0xC6120303;

  private final RedirectorTable table = new RedirectorTable(8, 4);

  @Test
  void shouldFindAnIpv6ServiceAndReadItsAddressBack() {
    int s = table.put6(HIGH, LOW, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1, null);

    assertEquals(s, table.lookup6(HIGH, LOW, TCP, 80));
    assertEquals(6, table.family(s));
    assertEquals(HIGH, table.addressHigh(s));
    assertEquals(LOW, table.addressLow(s));
    assertEquals(0, table.address(s), "no IPv4 address");
    assertEquals(TCP, table.protocol(s));
    assertEquals(80, table.port(s));
    assertEquals(HOST_A, table.select(s, 12345));
    assertTrue(table.isServiceAddress6(HIGH, LOW));
    assertEquals(1, table.size());
    assertEquals(1, table.size6());
  }

  @Test
  void shouldKeepTheFamiliesApart() {
    int v6 = table.put6(HIGH, LOW, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1, null);
    int v4 = table.put(V4, TCP, 80, new int[] {HOST_B}, new int[] {1}, 1);

    assertNotEquals(v4, v6);
    assertEquals(4, table.family(v4));
    assertEquals(V4, table.address(v4));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup6(HIGH, LOW, UDP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup6(HIGH, LOW + 1, TCP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup6(HIGH + 1, LOW, TCP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup(0x10, TCP, 80));
    assertFalse(table.isServiceAddress(V4 + 1));
    assertFalse(table.isServiceAddress6(HIGH, LOW + 1));

    assertTrue(table.remove6(HIGH, LOW, TCP, 80));
    assertFalse(table.remove6(HIGH, LOW, TCP, 80));
    assertFalse(table.isServiceAddress6(HIGH, LOW));
    assertEquals(v4, table.lookup(V4, TCP, 80), "the IPv4 service stays");
    assertEquals(1, table.size());
  }

  @Test
  void shouldShareTheCapacityAndReuseFreedIndices() {
    for (int i = 0; i < 4; i++) {
      table.put(V4, TCP, i, new int[] {HOST_A}, new int[] {1}, 1);
      table.put6(HIGH, LOW, TCP, i, new int[] {HOST_A}, new int[] {1}, 1, null);
    }
    assertEquals(8, table.size());
    IllegalStateException full =
        assertThrows(
            IllegalStateException.class,
            () -> table.put6(HIGH, LOW, UDP, 1, new int[] {HOST_A}, new int[] {1}, 1, null));
    assertTrue(full.getMessage().contains("full"), full.getMessage());
    int freed = table.lookup6(HIGH, LOW, TCP, 2);
    table.remove6(HIGH, LOW, TCP, 2);
    assertEquals(freed, table.put6(HIGH, LOW, UDP, 1, new int[] {HOST_B}, new int[] {1}, 1, null));
    assertTrue(table.isServiceAddress6(HIGH, LOW), "three services left on it");
  }

  @Test
  void shouldRefuseAddressesThatAreNotGlobalUnicast() {
    long[][] bad = {{0, 0}, {0, 1}, {0xFE80_0000_0000_0000L, 1}, {0xFF02_0000_0000_0000L, 1}};
    for (long[] a : bad) {
      assertThrows(
          IllegalStateException.class,
          () -> table.put6(a[0], a[1], TCP, 80, new int[] {HOST_A}, new int[] {1}, 1, null));
    }
    assertThrows(
        IllegalStateException.class,
        () ->
            table.put6(HIGH, LOW, TCP, 80, new int[] {HOST_A, HOST_A}, new int[] {1, 1}, 2, null));
    assertEquals(0, table.size());
  }

  @Test
  void shouldDrainAHostServerOfAnIpv6Service() {
    int s = table.put6(HIGH, LOW, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 1}, 2, null);
    assertTrue(table.setWeight6(HIGH, LOW, TCP, 80, HOST_A, 0));
    for (int h = 0; h < 1000; h++) {
      assertEquals(HOST_B, table.select(s, h * 0x9E3779B9));
    }
    assertFalse(table.setWeight6(HIGH, LOW, UDP, 80, HOST_A, 1), "no such service");
  }

  @Test
  void shouldAgreeWithAHashMapOverRandomOperationsOfBothFamilies() {
    RedirectorTable fast = new RedirectorTable(64, 2);
    Map<List<Long>, Integer> reference = new HashMap<>();
    Random random = new Random(21);
    for (int op = 0; op < 50_000; op++) {
      boolean v6 = random.nextBoolean();
      long low = random.nextInt(4);
      int port = random.nextInt(4);
      List<Long> key = List.of(v6 ? 6L : 4L, low, (long) port);
      int host = 0xC6120300 + 1 + random.nextInt(200);
      if (random.nextInt(3) == 0) {
        boolean removed =
            v6 ? fast.remove6(HIGH, low + 1, TCP, port) : fast.remove(V4 + (int) low, TCP, port);
        assertEquals(reference.remove(key) != null, removed);
      } else if (reference.size() < 64 || reference.containsKey(key)) {
        int s =
            v6
                ? fast.put6(HIGH, low + 1, TCP, port, new int[] {host}, new int[] {1}, 1, null)
                : fast.put(V4 + (int) low, TCP, port, new int[] {host}, new int[] {1}, 1);
        reference.put(key, host);
        assertEquals(host, fast.select(s, op));
      }
      List<Long> probe = List.of(random.nextBoolean() ? 6L : 4L, (long) random.nextInt(4), 0L);
      int s =
          probe.get(0) == 6L
              ? fast.lookup6(HIGH, probe.get(1) + 1, TCP, 0)
              : fast.lookup(V4 + probe.get(1).intValue(), TCP, 0);
      Integer expected = reference.get(probe);
      assertEquals(expected == null, s == RedirectorTable.NOT_FOUND, "present " + probe);
      if (expected != null) {
        assertEquals(expected, fast.hostServer(s, 0));
        assertEquals(probe.get(0) == 6L ? 6 : 4, fast.family(s));
      }
    }
    List<Integer> visited = new ArrayList<>();
    fast.forEach(visited::add);
    assertEquals(reference.size(), visited.size());
    assertEquals(reference.size(), fast.size());
  }
}
