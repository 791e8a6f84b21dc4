package net.hydranet.router.liveness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The liveness link's decisions, with the forwarding thread played by a queue this test drains (or
 * not) and the interface by a list of the states it was set to.
 */
class LivenessLinkTest {
  private final Deque<Runnable> queue = new ArrayDeque<>();
  private final List<String> changes = new ArrayList<>();
  private Object problem;
  private boolean holderClosed;

  private LivenessLink link(int misses) {
    return new LivenessLink(
        "hnlive",
        () -> holderClosed = true,
        (name, up) -> changes.add(name + (up ? " up" : " down")),
        queue::add,
        () -> problem,
        misses);
  }

  /** The forwarding thread runs what was posted. */
  private void forwardingThreadRuns() {
    while (!queue.isEmpty()) {
      queue.poll().run();
    }
  }

  @Test
  void shouldStayUpWhileEveryProbeRuns() {
    LivenessLink l = link(3);
    for (int i = 0; i < 10; i++) {
      assertTrue(l.tick(), "period " + i);
      forwardingThreadRuns();
    }
    assertTrue(l.up());
    assertEquals(List.of(), changes, "a healthy path never touches the link");
  }

  @Test
  void shouldGoDownAfterMissedPeriodsAndUpWhenProbesRunAgain() {
    LivenessLink l = link(3);
    l.tick();
    // The forwarding thread hangs: nothing posted runs.
    assertFalse(l.tick());
    assertFalse(l.tick());
    assertTrue(l.up(), "two missed periods of three: still up");
    assertFalse(l.tick());
    assertFalse(l.up());
    assertEquals(List.of("hnlive down"), changes);
    assertEquals(1, queue.size(), "one probe outstanding, not one per period");
    assertFalse(l.tick());
    assertEquals(List.of("hnlive down"), changes, "set down once");

    forwardingThreadRuns();
    assertTrue(l.tick());
    assertTrue(l.up());
    assertEquals(List.of("hnlive down", "hnlive up"), changes);
  }

  @Test
  void shouldGoDownOnAReceiveErrorEvenWhileProbesRun() {
    LivenessLink l = link(2);
    l.tick();
    forwardingThreadRuns();
    problem = new IOException("pcap: the interface went away");
    l.tick();
    forwardingThreadRuns();
    assertTrue(l.up());
    l.tick();
    forwardingThreadRuns();
    assertFalse(l.up());
    assertEquals(List.of("hnlive down"), changes);
  }

  @Test
  void shouldTryAgainNextPeriodWhenTheLinkCannotBeSet() {
    List<Boolean> tried = new ArrayList<>();
    LivenessLink l =
        new LivenessLink(
            "hnlive",
            () -> {},
            (name, up) -> {
              tried.add(up);
              if (tried.size() == 1) {
                throw new IOException("ip: RTNETLINK answers: Operation not permitted");
              }
            },
            queue::add,
            () -> problem,
            1);
    l.tick();
    l.tick(); // missed: set down fails, the link is still up as far as anyone knows
    assertTrue(l.up());
    l.tick(); // missed again: tried again, now it works
    assertFalse(l.up());
    assertEquals(List.of(false, false), tried);
  }

  @Test
  void shouldRemoveTheInterfaceOnCloseOnce() {
    LivenessLink l = link(3);
    l.close();
    assertTrue(holderClosed);
    holderClosed = false;
    l.close();
    assertFalse(holderClosed, "closed once");
  }

  @Test
  void shouldRefuseZeroMisses() {
    assertThrows(IllegalArgumentException.class, () -> link(0));
  }
}
