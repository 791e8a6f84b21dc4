package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RedirectorTableTest {
  private static final int TCP = 6;
  private static final int UDP = 17;
  private static final int SERVICE = 0xC6120001; // 198.18.0.1
  private static final int HOST_A = 0x0A000001; // 10.0.0.1
  private static final int HOST_B = 0x0A000002;
  private static final int HOST_C = 0x0A000003;

  private final RedirectorTable table = new RedirectorTable(16, 4);

  @Test
  void shouldPackAddressProtocolAndPortIntoKey() {
    assertEquals(0xC6120001_06_0050L, RedirectorTable.key(SERVICE, TCP, 80));
    assertEquals(0xFFFFFFFF_FF_FFFFL, RedirectorTable.key(-1, 255, 65535));
  }

  @Test
  void shouldNotFindAnUnknownService() {
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup(SERVICE, TCP, 80));
  }

  @Test
  void shouldFindAPutServiceAndItsHostServers() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 3}, 2);

    assertEquals(service, table.lookup(SERVICE, TCP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup(SERVICE, UDP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup(SERVICE, TCP, 81));
    assertEquals(SERVICE, table.address(service));
    assertEquals(TCP, table.protocol(service));
    assertEquals(80, table.port(service));
    assertEquals(2, table.hostServerCount(service));
    assertEquals(HOST_A, table.hostServer(service, 0));
    assertEquals(HOST_B, table.hostServer(service, 1));
    assertEquals(1, table.weight(service, 0));
    assertEquals(3, table.weight(service, 1));
    assertEquals(1, table.size());
  }

  @Test
  void shouldReplaceHostServersOfAnExistingServiceAndKeepItsCounters() {
    final int service = table.put(SERVICE, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1);
    table.count(service, 100);

    assertEquals(
        service, table.put(SERVICE, TCP, 80, new int[] {HOST_B, HOST_C}, new int[] {2, 2}, 2));

    assertEquals(2, table.hostServerCount(service));
    assertEquals(HOST_B, table.hostServer(service, 0));
    assertEquals(1, table.packets(service));
    assertEquals(100, table.bytes(service));
    assertEquals(1, table.size());
  }

  @Test
  void shouldRemoveAServiceAndReuseItsIndexWithFreshCounters() {
    final int first = table.put(SERVICE, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1);
    final int second = table.put(SERVICE, TCP, 443, new int[] {HOST_A}, new int[] {1}, 1);
    table.count(first, 60);

    assertTrue(table.remove(SERVICE, TCP, 80));
    assertFalse(table.remove(SERVICE, TCP, 80));
    assertEquals(RedirectorTable.NOT_FOUND, table.lookup(SERVICE, TCP, 80));
    assertEquals(second, table.lookup(SERVICE, TCP, 443));

    final int reused = table.put(SERVICE, UDP, 53, new int[] {HOST_B}, new int[] {1}, 1);
    assertEquals(first, reused);
    assertEquals(0, table.packets(reused));
    assertEquals(0, table.bytes(reused));
    assertEquals(UDP, table.protocol(reused));
    assertEquals(2, table.size());
  }

  @Test
  void shouldNeverSelectADrainingHostServer() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B, HOST_C}, new int[] {1, 0, 1}, 3);

    for (int hash = 0; hash < 10_000; hash++) {
      assertNotEquals(HOST_B, table.select(service, hash * 0x9E3779B9));
    }
    assertEquals(HOST_B, table.hostServer(service, 1));
  }

  @Test
  void shouldSelectNothingWhenEveryWeightIsZero() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {0, 0}, 2);
    final int empty = table.put(SERVICE, TCP, 81, new int[0], new int[0], 0);

    assertEquals(0, table.select(service, 12345));
    assertEquals(0, table.select(empty, 12345));
  }

  @Test
  void shouldSelectTheSameHostServerForTheSameHash() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B, HOST_C}, new int[] {5, 1, 2}, 3);

    for (int hash = -50_000; hash < 50_000; hash += 7) {
      assertEquals(table.select(service, hash), table.select(service, hash));
    }
  }

  @Test
  void shouldSpreadSelectionsInProportionToWeight() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 3}, 2);
    final java.util.Random random = new java.util.Random(1);
    int a = 0;
    final int n = 100_000;
    for (int i = 0; i < n; i++) {
      if (table.select(service, random.nextInt()) == HOST_A) {
        a++;
      }
    }
    assertEquals(0.25, (double) a / n, 0.01);
  }

  @Test
  void shouldSetTheWeightOfAKnownHostServerOnly() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 1}, 2);

    assertTrue(table.setWeight(SERVICE, TCP, 80, HOST_B, 0));
    assertFalse(table.setWeight(SERVICE, TCP, 80, HOST_C, 1));
    assertFalse(table.setWeight(SERVICE, TCP, 81, HOST_A, 1));

    assertEquals(0, table.weight(service, 1));
    assertEquals(HOST_A, table.select(service, -1));
    assertTrue(table.setWeight(SERVICE, TCP, 80, HOST_A, 0));
    assertEquals(0, table.select(service, -1));
  }

  @Test
  void shouldRejectAPutWhenTheTableIsFull() {
    final RedirectorTable small = new RedirectorTable(2, 1);
    small.put(SERVICE, TCP, 1, new int[] {HOST_A}, new int[] {1}, 1);
    small.put(SERVICE, TCP, 2, new int[] {HOST_A}, new int[] {1}, 1);

    final IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> small.put(SERVICE, TCP, 3, new int[] {HOST_A}, new int[] {1}, 1));
    assertTrue(e.getMessage().contains("full"), e.getMessage());
    // Replacing an existing entry still works when full.
    small.put(SERVICE, TCP, 2, new int[] {HOST_B}, new int[] {1}, 1);
    assertEquals(2, small.size());
  }

  @Test
  void shouldRejectBadHostServerSetsAndLeaveTheTableUnchanged() {
    final int service = table.put(SERVICE, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1);
    final int[] five = {1, 2, 3, 4, 5};

    assertThrows(IllegalStateException.class, () -> table.put(SERVICE, TCP, 80, five, five, 5));
    assertThrows(
        IllegalStateException.class,
        () -> table.put(SERVICE, TCP, 80, new int[] {HOST_B}, new int[] {-1}, 1));
    assertThrows(
        IllegalStateException.class,
        () -> table.put(SERVICE, TCP, 80, new int[] {HOST_B, HOST_B}, new int[] {1, 1}, 2));
    assertThrows(
        IllegalStateException.class,
        () -> table.put(SERVICE, TCP, 80, new int[] {0}, new int[] {1}, 1));
    assertThrows(
        IllegalStateException.class,
        () ->
            table.put(
                SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {Integer.MAX_VALUE, 1}, 2));
    assertThrows(
        IllegalStateException.class,
        () -> table.put(SERVICE, 256, 80, new int[] {HOST_B}, new int[] {1}, 1));
    assertThrows(IllegalStateException.class, () -> table.setWeight(SERVICE, TCP, 80, HOST_A, -1));

    assertEquals(1, table.size());
    assertEquals(1, table.hostServerCount(service));
    assertEquals(HOST_A, table.hostServer(service, 0));
    assertEquals(1, table.weight(service, 0));
  }

  @Test
  void shouldCountPacketsAndBytes() {
    final int service = table.put(SERVICE, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1);

    table.count(service, 1500);
    table.count(service, 40);

    assertEquals(2, table.packets(service));
    assertEquals(1540, table.bytes(service));
  }

  @Test
  void shouldPublishCountersToAnotherThread() throws InterruptedException {
    final int service = table.put(SERVICE, TCP, 80, new int[] {HOST_A}, new int[] {1}, 1);
    final AtomicLong lastSeen = new AtomicLong();
    final Thread metrics =
        new Thread(
            () -> {
              long previous = 0;
              while (previous < 1_000_000) {
                final long packets = table.packets(service);
                assertTrue(packets >= previous, "counter went backwards");
                previous = packets;
              }
              lastSeen.set(previous);
            });
    metrics.start();
    for (int i = 0; i < 1_000_000; i++) {
      table.count(service, 1);
    }
    metrics.join(10_000);
    assertEquals(1_000_000, lastSeen.get());
  }

  @Test
  void shouldVisitEveryServiceInUse() {
    table.put(SERVICE, TCP, 1, new int[] {HOST_A}, new int[] {1}, 1);
    final int second = table.put(SERVICE, TCP, 2, new int[] {HOST_A}, new int[] {1}, 1);
    table.put(SERVICE, TCP, 3, new int[] {HOST_A}, new int[] {1}, 1);
    table.remove(SERVICE, TCP, 1);
    final List<Integer> ports = new ArrayList<>();

    table.forEach(service -> ports.add(table.port(service)));

    assertEquals(List.of(2, 3), ports);
    assertEquals(2, table.port(second));
  }

  @Test
  void shouldNotAllocateOnLookupSelectOrCount() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B, HOST_C}, new int[] {1, 2, 3}, 3);
    final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (int warm = 0; warm < 2; warm++) {
      final long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 200_000; i++) {
        final int s = table.lookup(SERVICE, TCP, 80 + (i & 1));
        if (s != RedirectorTable.NOT_FOUND) {
          final int host = table.select(s, i);
          sink += host;
          table.count(s, host, 64);
        }
      }
      final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertTrue(allocated < 1024, "hot path allocated " + allocated + " bytes");
    }
    assertNotEquals(0, sink);
    assertEquals(200_000, table.packets(service));
  }

  @Test
  void shouldCountEachHostServerOfAService() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 1}, 2);

    table.count(service, HOST_A, 100);
    table.count(service, HOST_B, 40);
    table.count(service, HOST_B, 60);
    table.count(service, HOST_C, 7); // pinned to a host server the service no longer has

    assertEquals(4, table.packets(service));
    assertEquals(207, table.bytes(service));
    assertEquals(1, table.packets(service, 0));
    assertEquals(100, table.bytes(service, 0));
    assertEquals(2, table.packets(service, 1));
    assertEquals(100, table.bytes(service, 1));
    assertTrue(table.countsHostServers(service));
  }

  @Test
  void shouldKeepAHostServersCountsWhenItsSlotMovesAndStartANewOneAtZero() {
    final int service =
        table.put(SERVICE, TCP, 80, new int[] {HOST_A, HOST_B}, new int[] {1, 1}, 2);
    table.count(service, HOST_A, 10);
    table.count(service, HOST_B, 20);
    table.count(service, HOST_B, 20);

    table.put(SERVICE, TCP, 80, new int[] {HOST_C, HOST_B}, new int[] {1, 1}, 2);
    assertEquals(HOST_C, table.hostServer(service, 0));
    assertEquals(0, table.packets(service, 0), "a new host server starts at 0");
    assertEquals(2, table.packets(service, 1));
    table.put(SERVICE, TCP, 80, new int[] {HOST_B}, new int[] {1}, 1);
    assertEquals(2, table.packets(service, 0), "B moved from slot 1 to slot 0");
    assertEquals(40, table.bytes(service, 0));
    assertEquals(0, table.packets(service, 1), "an unused slot reads 0");

    table.remove(SERVICE, TCP, 80);
    final int again = table.put(SERVICE, TCP, 80, new int[] {HOST_B}, new int[] {1}, 1);
    assertEquals(service, again, "the freed index is reused");
    assertEquals(0, table.packets(again, 0), "a re-added service starts at 0");
  }

  @Test
  void shouldCountHostServersOfTheFirstServicesOnly() {
    final RedirectorTable wide =
        new RedirectorTable(RedirectorTable.TARGET_COUNTED_SERVICES + 1, 1);
    int last = RedirectorTable.NOT_FOUND;
    for (int port = 0; port <= RedirectorTable.TARGET_COUNTED_SERVICES; port++) {
      last = wide.put(SERVICE, TCP, port, new int[] {HOST_A}, new int[] {1}, 1);
    }

    wide.count(last, HOST_A, 64);

    assertFalse(wide.countsHostServers(last));
    assertEquals(1, wide.packets(last));
    assertEquals(0, wide.packets(last, 0));
  }

  @Test
  void shouldFitTwoMillionServicesOfEightHostServersInAFewHundredMegabytes() {
    final RedirectorTable big = new RedirectorTable(2 << 20, 8);

    assertTrue(big.footprintBytes() < 300L << 20, "footprint " + big.footprintBytes());
  }

  @Test
  void shouldLookUpEveryOneOfAMillionServices() {
    final int n = 1_000_000;
    final RedirectorTable big = new RedirectorTable(n, 8);
    final long footprint = big.footprintBytes();
    final int[] hosts = {1, 2, 3, 4, 5, 6, 7, 8};
    final int[] weights = {1, 1, 1, 1, 1, 1, 1, 1};

    for (int i = 0; i < n; i++) {
      hosts[0] = 0x0A000000 + i;
      assertEquals(i, big.put(0xC6120000 + (i >>> 4), TCP, i & 15, hosts, weights, 8));
    }
    for (int i = 0; i < n; i++) {
      final int service = big.lookup(0xC6120000 + (i >>> 4), TCP, i & 15);
      assertEquals(i, service);
      assertEquals(0x0A000000 + i, big.hostServer(service, 0));
    }

    assertEquals(n, big.size());
    assertEquals(RedirectorTable.NOT_FOUND, big.lookup(0xC6120000 + (n >>> 4), TCP, 0));
    assertThrows(IllegalStateException.class, () -> big.put(1, TCP, 1, hosts, weights, 8));
    assertEquals(footprint, big.footprintBytes(), "the map must never rehash");
    assertTrue(footprint < 160L << 20, "footprint " + footprint);
  }
}
