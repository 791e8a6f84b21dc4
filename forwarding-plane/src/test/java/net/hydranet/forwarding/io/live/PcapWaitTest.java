package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The wait's own eventfd: another thread's {@link PcapWait#wake} ends a {@code poll(2)} at once,
 * and says so once; without it the wait lasts its timeout. No capture needed: a wait over no
 * capture descriptors still polls its eventfd.
 */
class PcapWaitTest {
  @Test
  void shouldEndAWaitWhenWokenFromAnotherThread() throws Exception {
    PcapWait wait = PcapWait.ofDescriptors();
    CompletableFuture<Long> waited =
        CompletableFuture.supplyAsync(
            () -> {
              long t0 = System.nanoTime();
              long mask = wait.ready(10_000);
              assertEquals(0L, mask, "no capture is ready");
              return System.nanoTime() - t0;
            });
    Thread.sleep(50);
    wait.wake();
    long nanos = waited.get(20, TimeUnit.SECONDS);

    assertTrue(nanos < 5_000_000_000L, "woken, not timed out: " + nanos / 1_000_000 + " ms");
    assertTrue(wait.takeWake(), "the wake is reported");
    assertFalse(wait.takeWake(), "once");
  }

  @Test
  void shouldWaitItsTimeoutWhenNobodyWakesIt() {
    PcapWait wait = PcapWait.ofDescriptors();
    long t0 = System.nanoTime();

    assertEquals(0L, wait.ready(30));
    assertTrue(System.nanoTime() - t0 >= 25_000_000L, "waited the timeout");
    assertFalse(wait.takeWake());
  }

  @Test
  void shouldReportAWakeGivenBeforeTheWait() {
    PcapWait wait = PcapWait.ofDescriptors();
    wait.wake();
    wait.wake();

    long t0 = System.nanoTime();
    wait.ready(10_000);
    assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "the counter was already readable");
    assertTrue(wait.takeWake());
    assertEquals(0L, wait.ready(0), "both wakes read off at once");
    assertFalse(wait.takeWake());
  }

  @Test
  void shouldIgnoreAWakeAfterClose() {
    PcapWait wait = PcapWait.ofDescriptors();
    wait.close();
    wait.close();
    wait.wake(); // no write to a closed (or reused) descriptor

    assertFalse(wait.takeWake());
  }
}
