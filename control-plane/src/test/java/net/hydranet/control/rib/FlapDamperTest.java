package net.hydranet.control.rib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** RFC 2439-style damping: penalties add, halve every half-life, suppress above 2500. */
class FlapDamperTest {
  private static final long HALF_LIFE = 30_000_000_000L;
  private static final long MS = 1_000_000L;

  @Test
  void shouldNeverSuppressOneOrTwoFailures() {
    FlapDamper d = new FlapDamper(HALF_LIFE);
    long t = 5_000 * MS;
    d.fail(t);
    d.fail(t + 1);
    assertFalse(d.suppressed(t + 2));
    assertEquals(2000, d.penalty(t + 2), 0.01);
  }

  @Test
  void shouldSuppressOnTheThirdQuickFailure() {
    FlapDamper d = new FlapDamper(HALF_LIFE);
    long t = 5_000 * MS;
    d.fail(t);
    d.fail(t + MS);
    d.fail(t + 2 * MS);
    assertTrue(d.suppressed(t + 3 * MS));
  }

  @Test
  void shouldNotSuppressFailuresSpreadOverMinutes() {
    FlapDamper d = new FlapDamper(HALF_LIFE);
    for (long t = 1; t < 10 * 60_000 * MS; t += 60_000 * MS) {
      d.fail(t);
      assertFalse(d.suppressed(t), "a failure a minute");
    }
  }

  @Test
  void shouldHalveThePenaltyEveryHalfLife() {
    FlapDamper d = new FlapDamper(HALF_LIFE);
    long t = 5_000 * MS;
    d.fail(t);
    assertEquals(500, d.penalty(t + HALF_LIFE), 0.01);
    assertEquals(250, d.penalty(t + 2 * HALF_LIFE), 0.01);
  }

  @Test
  void shouldReleaseOnlyBelowTheReuseLimit() {
    FlapDamper d = new FlapDamper(HALF_LIFE);
    long t = 5_000 * MS;
    for (int i = 0; i < 3; i++) {
      d.fail(t);
    }
    // 3000 → 800 takes log2(3000 / 800) = 1.907 half-lives; above 2500 is not needed to stay.
    assertTrue(d.suppressed(t + (long) (0.5 * HALF_LIFE)), "1500 < 2500 but still above 800");
    assertTrue(d.suppressed(t + (long) (1.89 * HALF_LIFE)));
    assertFalse(d.suppressed(t + (long) (1.92 * HALF_LIFE)));
    d.fail(t + 2 * HALF_LIFE);
    assertFalse(d.suppressed(t + 2 * HALF_LIFE), "one more failure, ~1750: not suppressed again");
  }

  @Test
  void shouldDecayFromAClockThatReadsZero() {
    // System.nanoTime() may be any value, zero and negative ones included.
    FlapDamper d = new FlapDamper(HALF_LIFE);
    d.fail(0);
    assertEquals(500, d.penalty(HALF_LIFE), 0.01);
    FlapDamper n = new FlapDamper(HALF_LIFE);
    n.fail(-HALF_LIFE);
    assertEquals(500, n.penalty(0), 0.01);
  }
}
