package net.hydranet.forwarding.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

/**
 * The forwarding thread's look-ahead: each ring batch is taken {@link Pipeline#LOOK_AHEAD} slots at
 * a time, every frame of a window of two or more handed to {@link FrameProcessor#prefetch} and the
 * window's lines loaded before its first slot runs; a batch of one runs at once, without it. What
 * the path sees is logged and checked against that rule batch by batch (a batch ends in its flush).
 */
class PipelineLookAheadTest {
  private static final long WAIT_MILLIS = 10_000;

  /**
   * Logs tick "T", process "n", prefetch "Pn", loadPrefetched "L" and flush "F" (forwarding thread
   * only: the pipeline runs nothing inline here). Frame {@link #held} waits in process until the
   * test opens {@link #gate}, so the frames behind it pile up into one large batch.
   */
  private static final class Recorder implements FrameProcessor {
    // The end marker's last flush may come after awaitEnd returns.
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger processed = new AtomicInteger();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);
    final int held;

    Recorder(int held) {
      this.held = held;
    }

    @Override
    public void tick(long nowNanos) {
      log.add("T");
    }

    @Override
    public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
      int n = buffer.getInt(offset);
      log.add(Integer.toString(n));
      if (n == held) {
        entered.countDown();
        try {
          gate.await(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      processed.incrementAndGet();
    }

    @Override
    public void prefetch(DirectBuffer buffer, int offset, int length) {
      log.add("P" + buffer.getInt(offset));
    }

    @Override
    public int loadPrefetched() {
      log.add("L");
      return 0;
    }

    @Override
    public void flush() {
      log.add("F");
    }
  }

  @Test
  void shouldLookAheadAtEachWindowOfABatchAndRunALoneFrameAtOnce() throws Exception {
    PipelineInlineTest.BurstSource source = new PipelineInlineTest.BurstSource();
    int lone = 10;
    int piled = 99;
    Recorder path = new Recorder(lone);
    Pipeline pipeline =
        new Pipeline(
                256,
                new FrameSource[] {source},
                path,
                () -> {},
                new Counters(),
                Pipeline.Clock.LIVE,
                new LiteBlockingWaitStrategy(),
                0)
            .start();
    int frames = lone + 1 + piled;
    try {
      // Frames one at a time: each is a batch of its own (or beside an idle tick).
      for (int i = 0; i <= lone; i++) {
        source.release(1);
        if (i < lone) {
          awaitProcessed(path, i + 1);
        }
      }
      // Frame `lone` is held in process while the next ones are published behind it.
      assertTrue(path.entered.await(WAIT_MILLIS, TimeUnit.MILLISECONDS));
      source.release(piled);
      long deadline = System.currentTimeMillis() + WAIT_MILLIS;
      while (pipeline.usedSlots() < 1 + piled && System.currentTimeMillis() < deadline) {
        Thread.sleep(1);
      }
      path.gate.countDown();
      awaitProcessed(path, frames);
      source.finish();
      assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
    } finally {
      path.gate.countDown();
      pipeline.close();
    }

    List<String> log;
    synchronized (path.log) {
      log = new ArrayList<>(path.log);
    }
    List<String> processedOrder = new ArrayList<>();
    int loneBatches = 0;
    int largest = 0;
    List<String> batch = new ArrayList<>();
    for (String entry : log) {
      if (!entry.equals("F")) {
        batch.add(entry);
        continue;
      }
      if (batch.isEmpty()) {
        continue; // the end marker's own flush, then the batch's
      }
      List<Integer> slots = slotsOf(batch);
      assertEquals(expected(slots), batch, "batch of slots " + slots);
      if (slots.size() == 1 && slots.get(0) >= 0) {
        loneBatches++;
      }
      largest = Math.max(largest, slots.size());
      for (int s : slots) {
        if (s >= 0) {
          processedOrder.add(Integer.toString(s));
        }
      }
      batch.clear();
    }
    List<String> all = new ArrayList<>();
    for (int i = 0; i < frames; i++) {
      all.add(Integer.toString(i));
    }
    assertEquals(all, processedOrder, "every frame once, in order");
    assertTrue(loneBatches > 0, "some frame came alone");
    assertTrue(largest > Pipeline.LOOK_AHEAD, "a batch spanned windows: largest " + largest);
  }

  /** The batch's slots as the path saw them: a frame's number, or -1 for a tick or the end. */
  private static List<Integer> slotsOf(List<String> batch) {
    List<Integer> slots = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      if (!batch.get(i).equals("T")) {
        continue;
      }
      boolean frame = i + 1 < batch.size() && Character.isDigit(batch.get(i + 1).charAt(0));
      slots.add(frame ? Integer.parseInt(batch.get(i + 1)) : -1);
    }
    return slots;
  }

  /** What the rule says the path sees for these slots. */
  private static List<String> expected(List<Integer> slots) {
    List<String> log = new ArrayList<>();
    for (int from = 0; from < slots.size(); from += Pipeline.LOOK_AHEAD) {
      int to = Math.min(slots.size(), from + Pipeline.LOOK_AHEAD);
      if (to - from > 1) {
        for (int s : slots.subList(from, to)) {
          if (s >= 0) {
            log.add("P" + s);
          }
        }
        log.add("L");
      }
      for (int s : slots.subList(from, to)) {
        log.add("T");
        if (s >= 0) {
          log.add(Integer.toString(s));
        }
      }
    }
    return log;
  }

  private static void awaitProcessed(Recorder path, int frames) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MILLIS;
    while (path.processed.get() < frames && System.currentTimeMillis() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(frames, path.processed.get(), "frames processed before the deadline");
  }
}
