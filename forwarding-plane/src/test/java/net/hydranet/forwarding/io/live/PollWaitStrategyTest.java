package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SequenceBarrier;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-off between the receive and forwarding threads, with an eventfd standing in for a
 * capture descriptor (readable = "a frame is in the ring"); no root needed.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PollWaitStrategyTest {
  private int frameFd;
  private PollWaitStrategy wait;
  private RingBuffer<long[]> ring;
  private SequenceBarrier barrier;
  private final UnsafeBuffer word = new UnsafeBuffer(ByteBuffer.allocateDirect(8));

  @BeforeEach
  void open() {
    frameFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
    int signalFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
    assertTrue(frameFd >= 0 && signalFd >= 0, "eventfd");
    // A safety timeout longer than the test's: a lost signal fails the test instead of hiding.
    wait = new PollWaitStrategy(new int[] {frameFd}, signalFd, 60_000);
    ring = RingBuffer.createSingleProducer(() -> new long[1], 8, wait);
    barrier = ring.newBarrier();
  }

  @AfterEach
  void close() {
    wait.close();
    LibC.close(frameFd);
  }

  private void frameArrives() {
    word.putLong(0, 1);
    assertEquals(8, LibC.write(frameFd, word.addressOffset(), 8));
  }

  private void frameConsumed() {
    LibC.read(frameFd, word.addressOffset(), 8);
  }

  private CompletableFuture<Long> forwardingWaitsFor(long sequence) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return barrier.waitFor(sequence);
          } catch (AlertException e) {
            return -2L;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private void awaitBlocked() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!wait.forwardingBlocked()) {
      assertTrue(System.nanoTime() < deadline, "the forwarding thread never blocked");
      Thread.sleep(1);
    }
  }

  @Test
  void aPublishWakesTheBlockedForwardingThread() throws Exception {
    CompletableFuture<Long> got = forwardingWaitsFor(0);
    awaitBlocked();
    assertFalse(got.isDone());
    ring.publish(ring.next());
    assertEquals(0L, got.get(2, TimeUnit.SECONDS));
  }

  @Test
  void aReadableCaptureAloneDoesNotReleaseTheForwardingThread() throws Exception {
    CompletableFuture<Long> got = forwardingWaitsFor(0);
    awaitBlocked();
    // The kernel wakes both threads on a frame; the forwarding thread must still wait for the
    // receive thread's publish, not run ahead of it.
    frameArrives();
    assertThrows(TimeoutException.class, () -> got.get(100, TimeUnit.MILLISECONDS));
    frameConsumed();
    ring.publish(ring.next());
    assertEquals(0L, got.get(2, TimeUnit.SECONDS));
  }

  @Test
  void anAlertEndsTheWait() throws Exception {
    CompletableFuture<Long> got = forwardingWaitsFor(0);
    awaitBlocked();
    barrier.alert();
    assertEquals(-2L, got.get(2, TimeUnit.SECONDS));
  }

  @Test
  void theReceiveThreadWakesOnAFrameAndOtherwiseAtTheTimeout()
      throws InterruptedException, ExecutionException, TimeoutException {
    long start = System.nanoTime();
    wait.awaitFrames(50);
    long idle = System.nanoTime() - start;
    assertTrue(idle >= TimeUnit.MILLISECONDS.toNanos(45), "returned early: " + idle + " ns");

    CompletableFuture<Long> woke =
        CompletableFuture.supplyAsync(
            () -> {
              long s = System.nanoTime();
              wait.awaitFrames(10_000);
              return System.nanoTime() - s;
            });
    Thread.sleep(50);
    frameArrives();
    long waited = woke.get(5, TimeUnit.SECONDS);
    assertTrue(waited < TimeUnit.SECONDS.toNanos(5), "not woken by the frame: " + waited + " ns");
  }
}
