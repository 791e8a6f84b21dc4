package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OriginHealthTest {
  private final OriginHealth health = new OriginHealth(1_000);

  @Test
  void shouldBeUnknownUntilTheFirstContactAndLetMissesThrough() {
    assertEquals(OriginHealth.State.UNKNOWN, health.snapshot().state());
    assertEquals(-1, health.snapshot().lastContactMillis());
    assertEquals(0, health.failFast(5));
    assertTrue(health.probeDue(5, 2_000), "never heard: probe");
  }

  @Test
  void shouldGoDownAtTheFirstFailureAndAnswerMissesWithItsStatusAtOnce() {
    health.reached(1_000);
    assertTrue(health.failed(2_000, 502, "connection refused"), "it just went down");
    OriginHealth.Snapshot s = health.snapshot();
    assertEquals(OriginHealth.State.DOWN, s.state());
    assertEquals(1_000, s.lastContactMillis(), "the last answer is kept");
    assertEquals(2_000, s.downSinceMillis());
    assertEquals(502, s.status());
    assertEquals("connection refused", s.failure());
    assertEquals(502, health.failFast(2_100));
    assertEquals(502, health.failFast(2_999));
    assertFalse(health.failed(2_500, 504, "no answer within 5000 ms"), "already down");
    assertEquals(2_000, health.snapshot().downSinceMillis(), "down since the first failure");
    assertEquals(504, health.failFast(2_600), "the last failure's status");
  }

  @Test
  void shouldLetOneMissTryPerRetryInterval() {
    health.failed(10_000, 504, "connect timed out");
    assertEquals(504, health.failFast(10_500));
    assertEquals(0, health.failFast(11_000), "the trial of this interval");
    assertEquals(504, health.failFast(11_001), "claimed: the others are answered at once");
    assertEquals(504, health.failFast(11_999));
    assertEquals(0, health.failFast(12_000), "the next interval's trial");
  }

  @Test
  void shouldComeBackUpAtTheFirstAnswer() {
    health.failed(10_000, 502, "connection refused");
    assertTrue(health.reached(11_000), "it is back");
    OriginHealth.Snapshot s = health.snapshot();
    assertEquals(OriginHealth.State.UP, s.state());
    assertEquals(11_000, s.lastContactMillis());
    assertEquals(-1, s.downSinceMillis());
    assertNull(s.failure());
    assertEquals(0, health.failFast(11_001));
    assertFalse(health.reached(11_500), "already up");
  }

  @Test
  void shouldProbeOnlyWhenNothingWasHeardForTheInterval() {
    health.reached(10_000);
    assertFalse(health.probeDue(11_999, 2_000), "a recent answer is contact enough");
    assertTrue(health.probeDue(12_000, 2_000));
    health.failed(12_100, 502, "connection refused");
    assertFalse(health.probeDue(13_000, 2_000), "a recent failure too");
    assertTrue(health.probeDue(14_100, 2_000));
  }

  @Test
  void shouldRefuseAStatusThatIsNoUnreachableOrigin() {
    assertThrows(IllegalArgumentException.class, () -> health.failed(1, 500, "?"));
    assertThrows(IllegalArgumentException.class, () -> new OriginHealth(0));
  }
}
