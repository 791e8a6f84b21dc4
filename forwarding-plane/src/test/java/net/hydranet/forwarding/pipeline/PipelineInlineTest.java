package net.hydranet.forwarding.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameWait;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

/**
 * The receive thread's own work when the path is quiet: it runs a frame itself when the forwarding
 * thread is idle, at most {@code inlineBurst} in a row, and every frame still goes through the path
 * once and in order; when long idle it sleeps in its {@code FrameWait}.
 */
class PipelineInlineTest {
  private static final long WAIT_MILLIS = 10_000;

  /** Frames handed out in bursts the test releases; each frame's first int is its number. */
  static class BurstSource implements FrameSource {
    private final AtomicInteger released = new AtomicInteger();
    private volatile boolean finished;
    private int next;

    void release(int frames) {
      released.addAndGet(frames);
    }

    void finish() {
      finished = true;
    }

    @Override
    public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
      if (next < released.get()) {
        buffer.putInt(offset, next++);
        meta.ingress = 0;
        return 64;
      }
      return finished ? END : NONE;
    }

    @Override
    public void close() {}
  }

  /** Records which frame ran on which thread; counts the commands drained before each frame. */
  private static final class Recorder implements FrameProcessor {
    final List<Integer> order = new ArrayList<>();
    final List<String> threads = new ArrayList<>();
    final AtomicInteger processed = new AtomicInteger();

    @Override
    public void tick(long nowNanos) {}

    @Override
    public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
      // Plain lists on purpose: the pipeline must order the two threads' writes itself.
      order.add(buffer.getInt(offset));
      threads.add(Thread.currentThread().getName());
      processed.incrementAndGet();
    }

    @Override
    public void flush() {}
  }

  private static void awaitProcessed(Recorder path, int frames) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    while (path.processed.get() < frames && System.currentTimeMillis() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(frames, path.processed.get(), "frames processed before the deadline");
  }

  private static Pipeline pipeline(BurstSource source, Recorder path, Runnable drain, int inline) {
    return new Pipeline(
        64,
        new FrameSource[] {source},
        path,
        drain,
        new Counters(),
        Pipeline.Clock.LIVE,
        new LiteBlockingWaitStrategy(),
        inline);
  }

  @Test
  void shouldRunALoneFrameOnTheReceiveThreadAndCommandsBeforeIt() throws Exception {
    BurstSource source = new BurstSource();
    Recorder path = new Recorder();
    ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    List<String> applied = new ArrayList<>();
    Runnable drain =
        () -> {
          for (Runnable c; (c = commands.poll()) != null; ) {
            c.run();
          }
        };
    Pipeline pipeline = pipeline(source, path, drain, 4).start();
    try {
      for (int i = 0; i < 5; i++) {
        int n = i;
        commands.add(() -> applied.add("command " + n));
        source.release(1);
        awaitProcessed(path, i + 1);
        Thread.sleep(5); // a pause: the next frame starts a new burst
      }
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      pipeline.close();
    }
    assertEquals(List.of(0, 1, 2, 3, 4), path.order);
    assertEquals(List.of("hydranet-receive"), path.threads.stream().distinct().toList());
    assertEquals(5, pipeline.inlineFrames());
    assertEquals(5, applied.size(), "each command applied before its frame");
  }

  @Test
  void shouldHandABurstOverToTheRingAfterInlineBurstFramesAndKeepTheOrder() throws Exception {
    BurstSource source = new BurstSource();
    Recorder path = new Recorder();
    Pipeline pipeline = pipeline(source, path, () -> {}, 4).start();
    int frames = 10_000;
    try {
      source.release(frames);
      awaitProcessed(path, frames);
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      pipeline.close();
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < frames; i++) {
      expected.add(i);
    }
    assertEquals(expected, path.order);
    // The burst's first frames ran inline; the stream behind them went through the ring.
    assertEquals(
        List.of("hydranet-receive"), path.threads.subList(0, 4).stream().distinct().toList());
    assertEquals("hydranet-forwarding", path.threads.get(4));
    long inline = path.threads.stream().filter("hydranet-receive"::equals).count();
    assertEquals(pipeline.inlineFrames(), inline);
    assertTrue(inline < frames, "the forwarding thread took part: " + inline + " inline");
  }

  @Test
  void shouldHandEveryFrameOverWhenInlineIsOff() throws Exception {
    BurstSource source = new BurstSource();
    Recorder path = new Recorder();
    Pipeline pipeline = pipeline(source, path, () -> {}, 0).start();
    try {
      for (int i = 0; i < 3; i++) {
        source.release(1);
        awaitProcessed(path, i + 1);
      }
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      pipeline.close();
    }
    assertEquals(List.of(0, 1, 2), path.order);
    assertEquals(List.of("hydranet-forwarding"), path.threads.stream().distinct().toList());
    assertEquals(0, pipeline.inlineFrames());
  }

  @Test
  void shouldSleepInTheFrameWaitOnlyWhenLongIdleAndStillRunTheNextFrame() throws Exception {
    BurstSource source = new BurstSource();
    Recorder path = new Recorder();
    AtomicInteger waits = new AtomicInteger();
    FrameWait kernel =
        timeoutMillis -> {
          waits.incrementAndGet();
          try {
            Thread.sleep(timeoutMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    long afterMillis = 200;
    Pipeline pipeline =
        pipeline(source, path, () -> {}, 4096).deepIdle(kernel, afterMillis * 1_000_000L).start();
    long started = System.currentTimeMillis();
    try {
      Thread.sleep(20);
      if (System.currentTimeMillis() - started < afterMillis) {
        assertEquals(0, waits.get(), "no deep wait before the idle time is up");
      }
      long deadline = System.currentTimeMillis() + WAIT_MILLIS;
      while (waits.get() < 10 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(waits.get() >= 10, "long idle: waits in the kernel, " + waits.get());

      source.release(1);
      awaitProcessed(path, 1);
      int afterFrame = waits.get();
      long frameSeen = System.currentTimeMillis();
      Thread.sleep(20);
      if (System.currentTimeMillis() - frameSeen < afterMillis) {
        assertEquals(afterFrame, waits.get(), "a frame ends the deep idle");
      }
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      pipeline.close();
    }
  }

  /** A wait that records each timeout it was given and can be woken, as {@code PcapWait} is. */
  private static final class WakeableWait implements FrameWait {
    final ConcurrentLinkedQueue<Integer> timeouts = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.Semaphore woken = new java.util.concurrent.Semaphore(0);
    private volatile boolean wake;

    @Override
    public void await(int timeoutMillis) {
      ready(timeoutMillis);
    }

    @Override
    public long ready(int timeoutMillis) {
      timeouts.add(timeoutMillis);
      try {
        if (woken.tryAcquire(timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS)) {
          wake = true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return ALL; // cannot tell the sources apart: every one is looked at after the wait
    }

    @Override
    public void wake() {
      woken.release();
    }

    @Override
    public boolean takeWake() {
      boolean w = wake;
      wake = false;
      return w;
    }

    volatile boolean closed;

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void shouldCloseAQuietPipelineAtOnceAndReleaseItsWait() throws Exception {
    BurstSource source = new BurstSource();
    WakeableWait wait = new WakeableWait();
    Pipeline pipeline = pipeline(source, new Recorder(), () -> {}, 4096).deepIdle(wait, 0).start();
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    while (!wait.timeouts.contains(Pipeline.QUIET_TICK_MILLIS)
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(wait.timeouts.contains(Pipeline.QUIET_TICK_MILLIS), "quiet before the close");
    Thread.sleep(20);
    long t0 = System.nanoTime();
    pipeline.close();
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(
        tookMillis < Pipeline.QUIET_TICK_MILLIS / 2,
        "closed after " + tookMillis + " ms: the wait was not ended");
    assertTrue(wait.closed, "the wait is released once its thread has stopped");
  }

  /** Queues a command, wakes the pipeline, and expects the command to run well within a tick. */
  private static void assertRunsWhenWoken(
      Pipeline pipeline, ConcurrentLinkedQueue<Runnable> commands, String when)
      throws InterruptedException {
    java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
    long offered = System.nanoTime();
    commands.add(ran::countDown);
    pipeline.wake();
    assertTrue(ran.await(WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS), "command ran");
    long tookMillis = (System.nanoTime() - offered) / 1_000_000;
    assertTrue(
        tookMillis < Pipeline.QUIET_TICK_MILLIS / 2,
        when + ", the command ran after " + tookMillis + " ms, not at the next quiet tick");
  }

  @Test
  void shouldTickSlowlyWhenQuietAndRunACommandAtOnceWhenWoken() throws Exception {
    BurstSource source = new BurstSource();
    Recorder path = new Recorder();
    WakeableWait wait = new WakeableWait();
    ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    Runnable drain =
        () -> {
          for (Runnable c; (c = commands.poll()) != null; ) {
            c.run();
          }
        };
    Pipeline pipeline = pipeline(source, path, drain, 4096).deepIdle(wait, 0).start();
    try {
      source.release(1);
      awaitProcessed(path, 1);
      long frameSeen = System.nanoTime();
      long deadline = System.currentTimeMillis() + WAIT_MILLIS;
      while (!wait.timeouts.contains(Pipeline.QUIET_TICK_MILLIS)
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      long quietAfter = System.nanoTime() - frameSeen;
      assertTrue(wait.timeouts.contains(1), "a millisecond tick while traffic is recent");
      assertTrue(
          wait.timeouts.contains(Pipeline.QUIET_TICK_MILLIS),
          "quiet: waits " + Pipeline.QUIET_TICK_MILLIS + " ms between ticks");
      assertTrue(
          quietAfter >= Pipeline.QUIET_AFTER_NANOS,
          "quiet only a second after the last frame, was after " + quietAfter / 1_000_000 + " ms");

      // Deep in a quiet wait now: a command and a wake run it long before the next tick.
      Thread.sleep(20);
      assertRunsWhenWoken(pipeline, commands, "woken from a quiet wait");
      // The next commands right after it, within the tick's millisecond: woken, they run too (the
      // sampler's census queues its steps so, one as soon as the last is done).
      for (int i = 0; i < 5; i++) {
        assertRunsWhenWoken(pipeline, commands, "right after another");
      }

      source.release(1);
      awaitProcessed(path, 2);
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      pipeline.close();
    }
  }
}
