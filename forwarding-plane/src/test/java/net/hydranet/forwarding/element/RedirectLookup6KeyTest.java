package net.hydranet.forwarding.element;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import org.junit.jupiter.api.Test;

/**
 * The IPv6 connection table's address key is keyed by a secret, so a sender cannot pick a source
 * address that shares another client's entry; the consistent choice stays the same everywhere.
 */
class RedirectLookup6KeyTest {
  // 2001:2:0:1::10 → 2001:2:0:2::10, the victim's flow.
  private static final long VICTIM_HIGH = 0x2001_0002_0000_0001L;
  private static final long VICTIM_LOW = 0x10L;
  private static final long SERVICE_HIGH = 0x2001_0002_0000_0002L;
  private static final long SERVICE_LOW = 0x10L;

  private static RedirectLookup6 lookup(long secret) {
    return new RedirectLookup6(
        TestFrames.context(1500), new Counters(), new RedirectorTable(16, 4), secret);
  }

  @Test
  void shouldNotLetAChosenSourceShareAnotherClientsEntry() {
    // Another /64 (the attacker's), and the low word that makes the unkeyed hash collide: the
    // unkeyed hash starts from high ^ rotl(low, 31), which the sender can make equal.
    long attackerHigh = 0x2001_0002_0000_0009L;
    long attackerLow =
        Long.rotateRight(attackerHigh ^ VICTIM_HIGH ^ Long.rotateLeft(VICTIM_LOW, 31), 31);
    assertEquals(
        RedirectLookup6.addressKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW),
        RedirectLookup6.addressKey(attackerHigh, attackerLow, SERVICE_HIGH, SERVICE_LOW),
        "the unkeyed hash collides (the attack the table key prevents)");
    for (long secret : new long[] {0, 1, 0x5DEECE66DL, -1}) {
      RedirectLookup6 lookup = lookup(secret);
      assertNotEquals(
          lookup.tableKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW),
          lookup.tableKey(attackerHigh, attackerLow, SERVICE_HIGH, SERVICE_LOW),
          "secret " + secret);
    }
  }

  @Test
  void shouldKeyTheTableByTheSecretButChooseTheSameEverywhere() {
    RedirectLookup6 a = lookup(1);
    RedirectLookup6 b = lookup(2);
    assertNotEquals(
        a.tableKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW),
        b.tableKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW));
    assertEquals(
        a.tableKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW),
        a.tableKey(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW));
    assertEquals(
        RedirectLookup6.flowHash6(VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW, 6, 40000, 80),
        RedirectLookup6.flowHash6(
            VICTIM_HIGH, VICTIM_LOW, SERVICE_HIGH, SERVICE_LOW, 6, 40000, 80));
  }
}
