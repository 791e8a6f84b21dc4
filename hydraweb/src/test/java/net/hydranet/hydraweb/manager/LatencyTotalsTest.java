package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import net.hydranet.hydraweb.channel.AppMessage;
import org.junit.jupiter.api.Test;

class LatencyTotalsTest {
  private static final long[] BOUNDS = {10, 100};

  private static AppMessage.Latency report(long le10, long le100, long count, long sum) {
    return new AppMessage.Latency(BOUNDS, new long[] {le10, le100}, count, sum);
  }

  @Test
  void shouldFollowAReplicasGrowingCounts() {
    LatencyTotals t = new LatencyTotals();
    assertNull(t.snapshot());
    t.add(report(1, 2, 3, 500));
    t.add(report(1, 2, 3, 500)); // nothing new
    t.add(report(4, 6, 9, 900));
    assertEquals(report(4, 6, 9, 900), t.snapshot());
  }

  @Test
  void shouldAddAFreshStartWholeSoTheTotalsOnlyGrow() {
    LatencyTotals t = new LatencyTotals();
    t.add(report(4, 6, 9, 900));
    // The replica's counts started again: fewer in the first bucket than before.
    t.add(report(1, 1, 1, 5));
    assertEquals(report(5, 7, 10, 905), t.snapshot());
    t.add(report(1, 3, 3, 60));
    assertEquals(report(5, 9, 12, 960), t.snapshot());
    // Only one bucket's own count fell (its cumulative count did not): a fresh start too.
    t.add(report(3, 3, 3, 70));
    assertEquals(report(8, 12, 15, 1030), t.snapshot());
  }

  @Test
  void shouldStartAgainWhenTheBoundsChange() {
    LatencyTotals t = new LatencyTotals();
    t.add(report(4, 6, 9, 900));
    AppMessage.Latency other = new AppMessage.Latency(new long[] {7}, new long[] {2}, 2, 8);
    t.add(other);
    assertEquals(other, t.snapshot());
  }

  @Test
  void shouldSaturateInsteadOfWrapping() {
    LatencyTotals t = new LatencyTotals();
    long big = Long.MAX_VALUE - 1;
    t.add(report(big, big, big, big));
    t.add(report(0, 0, 2, 1)); // a fresh start
    AppMessage.Latency s = t.snapshot();
    assertArrayEquals(new long[] {big, big}, s.cumulative());
    assertEquals(Long.MAX_VALUE, s.count());
    assertEquals(big + 1, s.sumNanos());
  }
}
