package net.hydranet.forwarding.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DeadHostServersTest {
  private static final long FORGET = 300_000_000_000L;

  private final DeadHostServers dead = new DeadHostServers(FORGET);

  @Test
  void shouldRecordAHostServerWithTheTimeItWasDeclaredDead() {
    assertEquals(-1, dead.indexOf(7));
    assertTrue(dead.declare(7, 100));
    int i = dead.indexOf(7);
    assertEquals(100, dead.declaredAt(i));
    assertEquals(1, dead.size());
  }

  @Test
  void shouldReplaceTheTimeOfAHostServerDeclaredDeadAgain() {
    dead.declare(7, 100);
    dead.declare(7, 500);
    assertEquals(1, dead.size());
    assertEquals(500, dead.declaredAt(dead.indexOf(7)));
  }

  @Test
  void shouldForgetOnlyRecordsOlderThanTheForgetTime() {
    // Around nanoTime's wrap as well: times are compared by difference.
    long t = Long.MAX_VALUE - 10;
    dead.declare(1, t);
    dead.declare(2, t + 20);
    dead.declare(3, t + 40);
    dead.forget(t + 20 + FORGET);
    assertEquals(-1, dead.indexOf(1));
    assertTrue(dead.indexOf(2) >= 0);
    assertTrue(dead.indexOf(3) >= 0);
    assertEquals(2, dead.size());
    dead.forget(t + 41 + FORGET);
    assertEquals(0, dead.size());
  }

  @Test
  void shouldReplaceTheOldestRecordWhenFull() {
    for (int i = 0; i < DeadHostServers.CAPACITY; i++) {
      assertTrue(dead.declare(1000 + i, 10L * (i + 1)));
    }
    // Host 1000 was the oldest; make 1001 the oldest instead by refreshing 1000.
    dead.declare(1000, 10_000);
    assertFalse(dead.declare(5, 20_000), "full: a record is replaced");
    assertEquals(DeadHostServers.CAPACITY, dead.size());
    assertEquals(-1, dead.indexOf(1001));
    assertTrue(dead.indexOf(1000) >= 0);
    assertEquals(20_000, dead.declaredAt(dead.indexOf(5)));
  }

  @Test
  void shouldRefuseAForgetTimeThatIsNotPositive() {
    assertThrows(IllegalArgumentException.class, () -> new DeadHostServers(0));
  }
}
