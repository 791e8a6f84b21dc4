package net.hydranet.forwarding.neighbour;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class NeighbourTableTest {
  private static final long SECOND = 1_000_000_000L;
  private final NeighbourTable table = new NeighbourTable(16, 8, 128, 3, 3, SECOND, 30 * SECOND);
  private final UnsafeBuffer frame = new UnsafeBuffer(new byte[64]);
  private final List<Integer> requests = new ArrayList<>();
  private final List<Long> released = new ArrayList<>();

  @Test
  void shouldQueueUntilTheReplyAndReleaseInOrder() {
    for (int i = 0; i < 3; i++) {
      frame.putByte(20, (byte) i);
      int r = table.resolve(0xC6120102, 0, frame, 0, 64, 0);
      assertEquals(NeighbourTable.QUEUED, r);
      assertEquals(i == 0, table.requestDue(), "one request for the first frame only");
      if (table.requestDue()) {
        table.noteRequestSent(0xC6120102, 0);
      }
    }
    assertEquals(NeighbourTable.QUEUE_FULL, table.resolve(0xC6120102, 0, frame, 0, 64, 0));
    List<Byte> order = new ArrayList<>();
    int n =
        table.learn(
            0xC6120102,
            0x0200_0000_0102L,
            0,
            true,
            10,
            (b, o, l, i, mac) -> {
              order.add(b.getByte(o + 20));
              released.add(mac);
            });
    assertEquals(3, n);
    assertEquals(List.of((byte) 0, (byte) 1, (byte) 2), order);
    assertEquals(0, table.pendingFrames());
    assertEquals(NeighbourTable.RESOLVED, table.resolve(0xC6120102, 0, frame, 0, 64, 20));
    assertEquals(0x0200_0000_0102L, table.resolvedMac());
  }

  @Test
  void shouldRetryThenGiveUpAndFreeTheQueue() {
    table.resolve(0xC6120103, 1, frame, 0, 64, 0);
    table.noteRequestSent(0xC6120103, 0);
    int dropped = 0;
    for (long t = 0; t <= 10 * SECOND; t += SECOND / 2) {
      dropped +=
          table.poll(
              t,
              (ip, ifIndex) -> {
                requests.add(ip);
                table.noteRequestSent(ip, 0);
              });
    }
    assertEquals(1, dropped, "the queued frame is dropped when retries run out");
    assertTrue(requests.size() >= 1 && requests.size() <= 3, "bounded retries: " + requests);
    assertEquals(0, table.pendingFrames());
    assertEquals(-1, table.macOf(0xC6120103));
  }

  @Test
  void shouldNeverExpireStaticEntries() {
    table.putStatic(0xC6120104, 0x0200_0000_0104L, 0);
    assertEquals(
        NeighbourTable.RESOLVED, table.resolve(0xC6120104, 0, frame, 0, 64, 1000 * SECOND));
    assertEquals(false, table.requestDue());
  }

  @Test
  void shouldNotCreateEntriesFromMessagesNotForUs() {
    assertEquals(0, table.learn(0xC6120105, 0x0200_0000_0105L, 0, false, 0, (b, o, l, i, m) -> {}));
    assertEquals(-1, table.macOf(0xC6120105));
  }
}
