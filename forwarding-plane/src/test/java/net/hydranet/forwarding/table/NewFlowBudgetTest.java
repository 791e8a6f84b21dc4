package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NewFlowBudgetTest {
  private static int takeAll(NewFlowBudget budget, long now, int tries) {
    int taken = 0;
    for (int i = 0; i < tries; i++) {
      taken += budget.take(now) ? 1 : 0;
    }
    return taken;
  }

  @Test
  void shouldStartFullAndGiveABurstAtOnce() {
    NewFlowBudget budget = new NewFlowBudget(1_000, 50);
    assertEquals(50, takeAll(budget, 5_000_000_000L, 1_000));
  }

  @Test
  void shouldRefillAtTheRateUpToTheBurst() {
    NewFlowBudget budget = new NewFlowBudget(1_000, 50);
    long t = 5_000_000_000L;
    takeAll(budget, t, 50);
    assertEquals(10, takeAll(budget, t + 10_000_000L, 1_000), "10 ms at 1,000/s");
    assertEquals(0, takeAll(budget, t + 10_000_000L, 1_000));
    assertEquals(50, takeAll(budget, t + 60_000_000_000L, 1_000), "a minute later: one burst");
  }

  @Test
  void shouldHoldTheRateOverTimeWhateverIsOffered() {
    NewFlowBudget budget = new NewFlowBudget(2_000, 100);
    long t = 7_000_000_000L;
    int taken = 0;
    // Ten seconds, a try every 10 µs (100,000/s offered).
    for (int i = 0; i < 1_000_000; i++) {
      taken += budget.take(t + i * 10_000L) ? 1 : 0;
    }
    assertTrue(taken >= 100 + 20_000 - 1 && taken <= 100 + 20_000, "taken " + taken);
  }

  @Test
  void shouldWorkOnANegativeClock() {
    // System.nanoTime may be negative; the bucket still starts full.
    NewFlowBudget budget = new NewFlowBudget(10, 3);
    long t = -4_000_000_000_000_000_000L;
    assertEquals(3, takeAll(budget, t, 10));
    assertEquals(1, takeAll(budget, t + 100_000_000L, 10));
  }

  @Test
  void shouldNotGiveTokensWhenTheClockGoesBack() {
    NewFlowBudget budget = new NewFlowBudget(10, 3);
    takeAll(budget, 1_000_000_000L, 3);
    assertEquals(0, takeAll(budget, 500_000_000L, 10));
  }

  @Test
  void shouldNotLimitAtRateZero() {
    NewFlowBudget budget = new NewFlowBudget(0, 1);
    assertFalse(budget.limited());
    assertEquals(1_000, takeAll(budget, 0, 1_000));
  }

  @Test
  void shouldRefuseANegativeRateOrAnEmptyBucket() {
    assertThrows(IllegalArgumentException.class, () -> new NewFlowBudget(-1, 10));
    assertThrows(IllegalArgumentException.class, () -> new NewFlowBudget(10, 0));
  }
}
