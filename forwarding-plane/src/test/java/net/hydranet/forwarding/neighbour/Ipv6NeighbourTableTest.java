package net.hydranet.forwarding.neighbour;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class Ipv6NeighbourTableTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long[] ROUTER = Ipv6Header.parseAddress("2001:2:0:2::1");
  private static final long[] SERVER = Ipv6Header.parseAddress("2001:2:0:2::10");
  private static final long MAC_A = 0x0200_0000_0210L;
  private static final long MAC_B = 0x0200_0000_0211L;

  private final Ipv6NeighbourTable table =
      new Ipv6NeighbourTable(4, 8, 128, 3, 3, SECOND, 30 * SECOND);
  private final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
  private final List<String> requests = new ArrayList<>();
  private final List<Byte> released = new ArrayList<>();
  private final NeighbourTable.PendingSink sink = (b, o, l, i, mac) -> released.add(b.getByte(o));

  private int resolve(long[] address, long now) {
    return table.resolve(address[0], address[1], 1, frame, 0, 64, now);
  }

  @Test
  void shouldQueueUntilASolicitedAdvertisementAndReleaseInOrder() {
    for (int i = 0; i < 3; i++) {
      frame.putByte(0, (byte) i);
      assertEquals(Ipv6NeighbourTable.QUEUED, resolve(SERVER, 0));
      assertEquals(i == 0, table.requestDue(), "one solicitation for the first frame only");
      if (table.requestDue()) {
        table.noteRequestSent(SERVER[0], SERVER[1], 0);
      }
    }
    assertEquals(Ipv6NeighbourTable.QUEUE_FULL, resolve(SERVER, 0));
    assertEquals(3, table.pendingFrames());
    int n = table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_A, 1, true, true, 10, sink);
    assertEquals(3, n);
    assertEquals(List.of((byte) 0, (byte) 1, (byte) 2), released);
    assertEquals(Ipv6NeighbourTable.RESOLVED, resolve(SERVER, 20));
    assertEquals(MAC_A, table.resolvedMac());
    assertFalse(table.requestDue(), "REACHABLE: no probe within its lifetime");
  }

  @Test
  void shouldNotLearnFromAnAdvertisementNobodyAskedFor() {
    assertEquals(
        0, table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_A, 1, false, true, 0, sink));
    assertEquals(-1, table.macOf(SERVER[0], SERVER[1]));
    assertEquals(0, table.size());
  }

  @Test
  void shouldKeepAKnownAddressAgainstAnAdvertisementWithoutOverride() {
    resolve(SERVER, 0);
    table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_A, 1, true, false, 0, sink);
    assertEquals(MAC_A, table.macOf(SERVER[0], SERVER[1]), "an unknown address is filled in");
    table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_B, 1, true, false, 1, sink);
    assertEquals(MAC_A, table.macOf(SERVER[0], SERVER[1]));
    table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_B, 1, false, true, 2, sink);
    assertEquals(MAC_B, table.macOf(SERVER[0], SERVER[1]));
    // Unsolicited: STALE, so the next use probes.
    assertEquals(Ipv6NeighbourTable.RESOLVED, resolve(SERVER, 3));
    assertTrue(table.requestDue());
  }

  @Test
  void shouldLearnASolicitationsSourceAsStale() {
    table.learnFromSolicitation(ROUTER[0], ROUTER[1], MAC_A, 1, 0, sink);
    assertEquals(MAC_A, table.macOf(ROUTER[0], ROUTER[1]));
    assertEquals(Ipv6NeighbourTable.RESOLVED, resolve(ROUTER, 1));
    assertTrue(table.requestDue(), "STALE: used, and probed");
    table.noteRequestSent(ROUTER[0], ROUTER[1], 1);
    table.learnFromAdvertisement(ROUTER[0], ROUTER[1], MAC_A, 1, true, true, 2, sink);
    assertEquals(Ipv6NeighbourTable.RESOLVED, resolve(ROUTER, 3));
    assertFalse(table.requestDue(), "REACHABLE after the solicited answer");
    // The same address again changes nothing; a new one goes back to STALE.
    table.learnFromSolicitation(ROUTER[0], ROUTER[1], MAC_A, 1, 4, sink);
    resolve(ROUTER, 5);
    assertFalse(table.requestDue());
    table.learnFromSolicitation(ROUTER[0], ROUTER[1], MAC_B, 1, 6, sink);
    assertEquals(MAC_B, table.macOf(ROUTER[0], ROUTER[1]));
  }

  @Test
  void shouldSolicitAgainThenGiveUpAndFreeTheQueueAndTheHandle() {
    resolve(SERVER, 0);
    table.noteRequestSent(SERVER[0], SERVER[1], 0);
    int dropped = 0;
    for (long t = 0; t <= 10 * SECOND; t += SECOND / 2) {
      // poll counts the solicitations it sends itself: the sink only sends.
      dropped +=
          table.poll(
              t,
              (high, low, ifIndex) ->
                  requests.add(Ipv6Header.formatAddress(high, low) + "%" + ifIndex));
    }
    assertEquals(1, dropped);
    assertEquals(List.of("2001:2:0:2::10%1", "2001:2:0:2::10%1"), requests);
    assertEquals(0, table.size());
    assertEquals(0, table.pendingFrames());
    // Forty addresses come and go through a table of four: no handle leaks.
    for (int i = 0; i < 40; i++) {
      long now = (i + 100) * 100 * SECOND;
      assertEquals(Ipv6NeighbourTable.QUEUED, table.resolve(SERVER[0], i, 1, frame, 0, 64, now));
      table.noteRequestSent(SERVER[0], i, now);
      for (long t = now; t <= now + 10 * SECOND; t += SECOND) {
        table.poll(t, (high, low, ifIndex) -> {});
      }
      assertEquals(0, table.size(), "address " + i);
    }
  }

  @Test
  void shouldRefuseWhenFullAndNotLeakTheRefusedHandle() {
    for (int i = 0; i < 4; i++) {
      assertEquals(Ipv6NeighbourTable.QUEUED, table.resolve(1, i, 1, frame, 0, 64, 0));
    }
    for (int i = 4; i < 20; i++) {
      assertEquals(Ipv6NeighbourTable.QUEUE_FULL, table.resolve(1, i, 1, frame, 0, 64, 0));
      assertFalse(table.putStatic(2, i, MAC_A, 1));
      assertEquals(0, table.learnFromSolicitation(3, i, MAC_A, 1, 0, sink));
    }
    assertEquals(1, table.remove(1, 0));
    assertTrue(table.putStatic(SERVER[0], SERVER[1], MAC_A, 1));
    assertEquals(Ipv6NeighbourTable.RESOLVED, resolve(SERVER, 0));
    assertEquals(MAC_A, table.resolvedMac());
  }

  @Test
  void shouldNeverReplaceAStaticEntryAndListItInSnapshots() {
    assertTrue(table.putStatic(SERVER[0], SERVER[1], MAC_A, 2));
    table.learnFromAdvertisement(SERVER[0], SERVER[1], MAC_B, 1, true, true, 0, sink);
    table.learnFromSolicitation(SERVER[0], SERVER[1], MAC_B, 1, 0, sink);
    assertEquals(MAC_A, table.macOf(SERVER[0], SERVER[1]));
    List<String> seen = new ArrayList<>();
    table.forEach(
        (high, low, mac, ifIndex, isStatic) ->
            seen.add(
                Ipv6Header.formatAddress(high, low) + " " + mac + " " + ifIndex + " " + isStatic));
    assertEquals(List.of("2001:2:0:2::10 " + MAC_A + " 2 true"), seen);
  }
}
