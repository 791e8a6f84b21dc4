package net.hydranet.control.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The control thread's bound on work: a burst, then the rate, never more after idling. */
class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  private static int takes(TokenBucket b, long now, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      n += b.take(now) ? 1 : 0;
    }
    return n;
  }

  @Test
  void shouldAllowTheBurstAtOnceAndNoMore() {
    TokenBucket b = new TokenBucket(2000, 201, 7 * SECOND);
    assertEquals(201, takes(b, 7 * SECOND, 1000));
    assertFalse(b.take(7 * SECOND));
  }

  @Test
  void shouldRefillAtTheRate() {
    long t = 7 * SECOND;
    TokenBucket b = new TokenBucket(2000, 201, t);
    takes(b, t, 201);
    int first = takes(b, t + SECOND / 1000, 10);
    assertTrue(first == 1 || first == 2, "2000/s is 2 a millisecond (give or take rounding)");
    long total = 0;
    for (long now = t + SECOND / 1000; now <= t + SECOND; now += SECOND / 1000) {
      total += takes(b, now, 10);
    }
    assertEquals(2000, total, 2);
  }

  @Test
  void shouldNotSaveMoreThanTheBurstWhileIdle() {
    long t = 7 * SECOND;
    TokenBucket b = new TokenBucket(2000, 201, t);
    assertEquals(201, takes(b, t + 3600 * SECOND, 10_000));
  }

  @Test
  void shouldTakeWithASmallRate() {
    TokenBucket b = new TokenBucket(1, 1, 0);
    assertTrue(b.take(0));
    assertFalse(b.take(SECOND / 2));
    assertTrue(b.take(SECOND + 1));
  }
}
