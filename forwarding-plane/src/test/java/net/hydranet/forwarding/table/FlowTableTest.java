package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import org.junit.jupiter.api.Test;

class FlowTableTest {
  private final Counters counters = new Counters();

  @Test
  void shouldEvictTheLeastRecentlyUsedFlowWhenFull() {
    FlowTable t = new FlowTable(3, counters);
    long lo = FlowTable.keyLo(6, 1000, 80);
    for (int i = 1; i <= 3; i++) {
      t.insert(FlowTable.keyHi(i, 99), lo, 100 + i, 0, 1_000);
    }
    t.touch(t.find(FlowTable.keyHi(1, 99), lo, 1), 1, 1_000); // 2 is now the oldest
    t.insert(FlowTable.keyHi(4, 99), lo, 104, 2, 1_000);

    assertEquals(FlowTable.NOT_FOUND, t.find(FlowTable.keyHi(2, 99), lo, 3));
    assertEquals(101, t.target(t.find(FlowTable.keyHi(1, 99), lo, 3)));
    assertEquals(104, t.target(t.find(FlowTable.keyHi(4, 99), lo, 3)));
    assertEquals(1, counters.get(Counter.FLOWS_EVICTED));
    assertEquals(3, t.size());
  }

  @Test
  void shouldKeepRecencyToWithinItsGranularity() {
    long ms = 1_000_000L;
    FlowTable t = new FlowTable(3, 1_000 * ms, counters);
    long lo = FlowTable.keyLo(6, 1000, 80);
    for (int i = 1; i <= 3; i++) {
      t.insert(FlowTable.keyHi(i, 99), lo, 100 + i, 0, 10_000 * ms);
    }
    // A hit within a second of the flow's last move does not reorder: 1 stays the oldest.
    t.touch(t.find(FlowTable.keyHi(1, 99), lo, 500 * ms), 500 * ms, 10_000 * ms);
    t.insert(FlowTable.keyHi(4, 99), lo, 104, 500 * ms, 1_000 * ms);
    assertEquals(FlowTable.NOT_FOUND, t.find(FlowTable.keyHi(1, 99), lo, 500 * ms));
    // It still refreshes the deadline: 4 lives past the 1.5 s it was inserted with.
    t.touch(t.find(FlowTable.keyHi(4, 99), lo, 1_000 * ms), 1_000 * ms, 1_000 * ms);
    assertEquals(104, t.target(t.find(FlowTable.keyHi(4, 99), lo, 1_800 * ms)));
    // A hit a second or more after the last move does move: 3, not 2, is now the oldest.
    t.touch(t.find(FlowTable.keyHi(2, 99), lo, 2_000 * ms), 2_000 * ms, 10_000 * ms);
    t.insert(FlowTable.keyHi(5, 99), lo, 105, 2_000 * ms, 10_000 * ms);
    assertEquals(FlowTable.NOT_FOUND, t.find(FlowTable.keyHi(3, 99), lo, 2_000 * ms));
    assertEquals(102, t.target(t.find(FlowTable.keyHi(2, 99), lo, 2_000 * ms)));
    assertEquals(2, t.evicted());
    assertEquals(3, t.size());
  }

  @Test
  void shouldVisitTheTargetOfEveryLiveFlowOnly() {
    FlowTable t = new FlowTable(8, counters);
    long lo = FlowTable.keyLo(6, 1000, 80);
    t.insert(FlowTable.keyHi(1, 99), lo, 0, 0, 1_000);
    t.insert(FlowTable.keyHi(2, 99), lo, 7, 0, 1_000);
    t.insert(FlowTable.keyHi(3, 99), lo, 7, 0, 1_000);
    t.insert(FlowTable.keyHi(4, 99), lo, 9, 0, 10); // past its deadline at 500
    java.util.Map<Integer, Integer> seen = new java.util.TreeMap<>();
    t.forEachLiveTarget(500, target -> seen.merge(target, 1, Integer::sum));
    assertEquals(java.util.Map.of(0, 1, 7, 2), seen);
  }

  @Test
  void shouldVisitTheServiceSideOfEveryLiveFlowOnly() {
    FlowTable t = new FlowTable(8, counters);
    t.insert(FlowTable.keyHi(1, 99), FlowTable.keyLo(6, 1000, 80), 7, 0, 1_000);
    t.insert(FlowTable.keyHi(2, 99), FlowTable.keyLo(17, 1000, 53), 7, 0, 1_000);
    t.insert(FlowTable.keyHi(3, 98), FlowTable.keyLo(6, 1000, 443), 9, 0, 10); // expired at 500
    java.util.List<String> seen = new java.util.ArrayList<>();
    t.forEachLiveFlow(
        500, (d, p, port, target) -> seen.add(d + "/" + p + "/" + port + ">" + target));
    java.util.Collections.sort(seen);
    assertEquals(java.util.List.of("99/17/53>7", "99/6/80>7"), seen);
  }

  @Test
  void shouldVisitInSlicesWhatOneWalkVisits() {
    FlowTable t = new FlowTable(64, counters);
    for (int i = 0; i < 40; i++) {
      t.insert(FlowTable.keyHi(i, 99), FlowTable.keyLo(6, 1000 + i, 80), i, 0, i < 30 ? 1_000 : 10);
    }
    java.util.List<Integer> whole = new java.util.ArrayList<>();
    t.forEachLiveFlow(500, (d, p, port, target) -> whole.add(target));
    java.util.List<Integer> sliced = new java.util.ArrayList<>();
    int slices = 0;
    for (int next = 0; next < t.slots(); slices++) {
      int before = sliced.size();
      next =
          t.forEachLiveFlow(
              500,
              next,
              Math.min(t.slots(), next + 16),
              3,
              (d, p, port, target) -> sliced.add(target));
      assertTrue(sliced.size() - before <= 3, "a slice visited more than its live flows");
    }
    assertEquals(30, whole.size());
    assertEquals(whole, sliced, "the same flows, in slot order");
    assertTrue(slices >= 10, slices + " slices: 30 live flows, 3 at most a slice");
  }

  @Test
  void shouldRefuseASliceOutsideTheTable() {
    FlowTable t = new FlowTable(8, counters);
    assertEquals(16, t.slots());
    assertThrows(
        IllegalArgumentException.class, () -> t.forEachLiveFlow(0, 0, 17, 1, (d, p, o, x) -> {}));
    assertThrows(
        IllegalArgumentException.class, () -> t.forEachLiveFlow(0, 5, 4, 1, (d, p, o, x) -> {}));
    assertEquals(0, new FlowTable(0, counters).slots());
  }

  @Test
  void shouldSweepAsManyFlowsAMillisecondWhateverTheTicksApart() {
    assertEquals(64, FlowTable.sweepBudget(0), "a tick per frame: as before");
    assertEquals(64, FlowTable.sweepBudget(-5), "a clock that stepped back");
    assertEquals(64, FlowTable.sweepBudget(1_000_000));
    assertEquals(50 * 64, FlowTable.sweepBudget(50_000_000));
    assertEquals(100 * 64, FlowTable.sweepBudget(100_000_000), "a quiet pipeline's tick");
    assertEquals(100 * 64, FlowTable.sweepBudget(60_000_000_000L), "bounded");

    FlowTable t = new FlowTable(4096, counters);
    for (int i = 0; i < 3000; i++) {
      t.insert(FlowTable.keyHi(i, 99), FlowTable.keyLo(6, 1000, 80), 0, 0, 10);
    }
    assertEquals(3000, t.expire(1_000, FlowTable.sweepBudget(100_000_000)));
    assertEquals(0, t.size());
  }

  @Test
  void shouldRecordNothingWithCapacityZero() {
    FlowTable t = new FlowTable(0, counters);
    long hi = FlowTable.keyHi(1, 2);
    long lo = FlowTable.keyLo(6, 1000, 80);
    assertEquals(FlowTable.NOT_FOUND, t.insert(hi, lo, 7, 0, 100));
    assertEquals(FlowTable.NOT_FOUND, t.find(hi, lo, 1));
    assertEquals(0, t.expire(200, 10));
    assertEquals(0, t.size());
    assertEquals(0, counters.get(Counter.FLOWS_CREATED));
    assertEquals(0, counters.get(Counter.FLOWS_EVICTED));
  }

  @Test
  void shouldForgetIdleFlowsLazilyAndOnSweeps() {
    FlowTable t = new FlowTable(8, counters);
    long lo = FlowTable.keyLo(17, 5353, 53);
    t.insert(FlowTable.keyHi(1, 2), lo, 7, 0, 100);
    t.insert(FlowTable.keyHi(3, 4), lo, 7, 0, 100);
    assertEquals(FlowTable.NOT_FOUND, t.find(FlowTable.keyHi(1, 2), lo, 101));
    assertEquals(1, t.expire(101, 10));
    assertEquals(0, t.size());
    assertEquals(2, counters.get(Counter.FLOWS_EXPIRED));
  }

  @Test
  void shouldAgreeWithAHashMapUnderRandomInsertsAndRemovals() {
    FlowTable t = new FlowTable(1_000, counters);
    Map<Long, Integer> reference = new HashMap<>();
    Map<Long, Integer> entries = new HashMap<>();
    Random random = new Random(11);
    for (int step = 0; step < 200_000; step++) {
      long hi = FlowTable.keyHi(random.nextInt(700), 1);
      long lo = FlowTable.keyLo(6, 1, 2);
      int e = t.find(hi, lo, 0);
      assertEquals(reference.containsKey(hi), e != FlowTable.NOT_FOUND, "step " + step);
      if (e == FlowTable.NOT_FOUND) {
        int target = random.nextInt();
        entries.put(hi, t.insert(hi, lo, target, 0, Long.MAX_VALUE / 4));
        reference.put(hi, target);
      } else {
        assertEquals((int) reference.get(hi), t.target(e));
        if (random.nextBoolean()) {
          t.remove(e);
          reference.remove(hi);
        }
      }
    }
    assertEquals(reference.size(), t.size());
    assertEquals(0, counters.get(Counter.FLOWS_EVICTED));
  }

  /** The reference: a map in recency order, oldest first; a touch moves a flow to the end. */
  private static final class Flow {
    int target;
    long deadline;
    boolean closing;
  }

  @Test
  void shouldAgreeWithAReferenceLruUnderEvictionExpiryAndRemoval() {
    int capacity = 64;
    FlowTable t = new FlowTable(capacity, counters);
    LinkedHashMap<Long, Flow> reference = new LinkedHashMap<>();
    Random random = new Random(23);
    long now = 0;
    long expired = 0;
    long evicted = 0;
    for (int step = 0; step < 300_000; step++) {
      now += random.nextInt(4);
      int source = random.nextInt(160);
      long hi = FlowTable.keyHi(source, 9);
      long lo = FlowTable.keyLo(source % 2 == 0 ? 6 : 17, source * 7, 80);
      String at = "step " + step;
      Flow flow = reference.get(hi);
      if (flow != null && now - flow.deadline > 0) {
        reference.remove(hi);
        expired++;
        flow = null;
      }
      int e = t.find(hi, lo, now);
      assertEquals(flow != null, e != FlowTable.NOT_FOUND, at);
      int action = random.nextInt(10);
      if (e == FlowTable.NOT_FOUND) {
        if (action < 7) {
          if (reference.size() == capacity) {
            Iterator<Long> oldest = reference.keySet().iterator();
            oldest.next();
            oldest.remove();
            evicted++;
          }
          Flow f = new Flow();
          f.target = random.nextInt();
          f.deadline = now + 1 + random.nextInt(300);
          t.insert(hi, lo, f.target, now, f.deadline - now);
          reference.put(hi, f);
        }
      } else {
        assertEquals(flow.target, t.target(e), at);
        assertEquals(flow.closing, t.closing(e), at);
        if (action < 5) {
          long timeout = 1 + random.nextInt(300);
          t.touch(e, now, timeout);
          flow.deadline = now + timeout;
          reference.remove(hi);
          reference.put(hi, flow);
        } else if (action < 6) {
          flow.closing = !flow.closing;
          t.closing(e, flow.closing);
          flow.target = random.nextInt();
          t.target(e, flow.target);
        } else if (action < 7) {
          t.remove(e);
          reference.remove(hi);
        }
      }
      if (action == 9) {
        int max = 1 + random.nextInt(4);
        int popped = 0;
        Iterator<Flow> oldest = reference.values().iterator();
        while (popped < max && oldest.hasNext()) {
          if (now - oldest.next().deadline <= 0) {
            break;
          }
          oldest.remove();
          popped++;
        }
        expired += popped;
        assertEquals(popped, t.expire(now, max), at);
      }
      assertEquals(reference.size(), t.size(), at);
    }
    assertEquals(expired, t.expired());
    assertEquals(evicted, t.evicted());
    assertTrue(evicted > 1_000 && expired > 1_000, "evicted " + evicted + ", expired " + expired);
  }

  @Test
  void shouldLookAheadWithoutChangingWhatALookupFinds() {
    // The same script on two tables, one of them also looking ahead at random flows (present or
    // not, more than a pass notes at most): every lookup and count must come out the same.
    Counters aheadCounters = new Counters();
    FlowTable plain = new FlowTable(256, 1_000, counters);
    FlowTable ahead = new FlowTable(256, 1_000, aheadCounters);
    Random random = new Random(23);
    long now = 0;
    for (int i = 0; i < 200_000; i++) {
      now += random.nextInt(3);
      int noted = random.nextInt(FlowTable.PREFETCH_MAX + 8);
      for (int k = 0; k < noted; k++) {
        ahead.prefetch(FlowTable.keyHi(random.nextInt(2_000), 9), FlowTable.keyLo(6, 1, 80));
      }
      assertEquals(Math.min(noted, FlowTable.PREFETCH_MAX), ahead.loadPrefetched());
      long hi = FlowTable.keyHi(random.nextInt(2_000), 9);
      long lo = FlowTable.keyLo(6, 1, 80);
      long timeout = random.nextBoolean() ? 20 : 5_000; // some expire, the rest fill the table
      int e = plain.find(hi, lo, now);
      assertEquals(e, ahead.find(hi, lo, now));
      if (e == FlowTable.NOT_FOUND) {
        assertEquals(plain.insert(hi, lo, i, now, timeout), ahead.insert(hi, lo, i, now, timeout));
      } else if (random.nextInt(8) == 0) {
        plain.remove(e);
        ahead.remove(e);
      } else {
        assertEquals(plain.target(e), ahead.target(e));
        plain.touch(e, now, timeout);
        ahead.touch(e, now, timeout);
      }
      assertEquals(plain.expire(now, 2), ahead.expire(now, 2));
      assertEquals(plain.size(), ahead.size());
    }
    for (Counter c : Counter.values()) {
      assertEquals(counters.get(c), aheadCounters.get(c), c.name());
    }
    assertTrue(
        plain.evicted() > 0 && plain.expired() > 0,
        "evicted " + plain.evicted() + ", expired " + plain.expired());
  }

  @Test
  void shouldLookAheadPastTheLastSlotIntoTheFirstLine() {
    // The look-ahead reads each flow's home line and the next: from the last slots, the next is
    // the table's first line. Small tables put many homes there.
    Random random = new Random(5);
    for (int capacity : new int[] {1, 2, 3, 5, 64}) {
      FlowTable t = new FlowTable(capacity, counters);
      for (int round = 0; round < 50; round++) {
        for (int k = 0; k < FlowTable.PREFETCH_MAX; k++) {
          t.prefetch(FlowTable.keyHi(random.nextInt(), 9), FlowTable.keyLo(17, k, 53));
        }
        assertEquals(FlowTable.PREFETCH_MAX, t.loadPrefetched(), "capacity " + capacity);
      }
    }
  }

  @Test
  void shouldLookAheadAtNothingWithCapacityZero() {
    FlowTable t = new FlowTable(0, counters);
    t.prefetch(FlowTable.keyHi(1, 2), FlowTable.keyLo(6, 1000, 80));
    assertEquals(0, t.loadPrefetched());
  }

  @Test
  void shouldNotAllocateOnTheHotPath() {
    FlowTable t = new FlowTable(1 << 12, counters);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (int round = 0; round < 2; round++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 100_000; i++) {
        long hi = FlowTable.keyHi(i, 7);
        long lo = FlowTable.keyLo(6, i & 0xFFFF, 80);
        int e = t.find(hi, lo, i);
        if (e == FlowTable.NOT_FOUND) {
          e = t.insert(hi, lo, i, i, 50_000);
        }
        t.touch(e, i, 50_000);
        sink += t.target(e);
        t.prefetch(FlowTable.keyHi(i + 1, 7), lo);
        sink += t.loadPrefetched();
        t.expire(i, 4);
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      if (round == 1) {
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes");
      }
    }
    assertNotEquals(0, sink);
    assertTrue(counters.get(Counter.FLOWS_EVICTED) > 0);
  }
}
