package net.hydranet.forwarding.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

/**
 * The receive thread reads batches straight into ring slots it has not claimed yet: a batch is
 * bounded by the slots the ring reports free, so a slow forwarding thread's unprocessed frames are
 * never overwritten, and every frame is processed once and in order.
 */
class PipelineBatchTest {
  private static final long WAIT_MILLIS = 20_000;
  private static final int RING = 4;

  /** The test's frames in bursts; records the largest batch asked for and the largest given. */
  private static final class CountingSource extends PipelineInlineTest.BurstSource {
    final AtomicInteger largestAsked = new AtomicInteger();
    final AtomicInteger largestGiven = new AtomicInteger();

    @Override
    public int pollBatch(Batch batch, int max) {
      largestAsked.accumulateAndGet(max, Math::max);
      final int n = super.pollBatch(batch, max);
      largestGiven.accumulateAndGet(n, Math::max);
      return n;
    }
  }

  /** Reads each frame's number when it runs; slow now and then, so the ring fills up. */
  private static final class SlowRecorder implements FrameProcessor {
    final List<Integer> order = new ArrayList<>();
    final AtomicInteger processed = new AtomicInteger();

    @Override
    public void tick(long nowNanos) {}

    @Override
    public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
      final int frame = buffer.getInt(offset);
      order.add(frame);
      if (frame % 64 == 0) {
        final long until = System.nanoTime() + 200_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
      processed.incrementAndGet();
    }

    @Override
    public void flush() {}
  }

  @Test
  void shouldBoundEachBatchByTheFreeSlotsAndKeepEveryFrameInOrder() throws Exception {
    for (int inline : new int[] {0, 2}) {
      final CountingSource source = new CountingSource();
      final SlowRecorder path = new SlowRecorder();
      final Pipeline pipeline =
          new Pipeline(
                  RING,
                  new FrameSource[] {source},
                  path,
                  () -> {},
                  new Counters(),
                  Pipeline.Clock.LIVE,
                  new LiteBlockingWaitStrategy(),
                  inline)
              .start();
      final int frames = 5_000;
      try {
        source.release(frames);
        final long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        while (path.processed.get() < frames && System.currentTimeMillis() < deadline) {
          Thread.sleep(1);
        }
        source.finish();
        assertTrue(pipeline.awaitEnd(WAIT_MILLIS), "pipeline ended");
      } finally {
        pipeline.close();
      }
      final List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < frames; i++) {
        expected.add(i);
      }
      assertEquals(expected, path.order, "inline " + inline);
      // The held slot plus the free ones: never more than the ring.
      assertTrue(source.largestAsked.get() <= RING, "asked " + source.largestAsked.get());
      assertTrue(source.largestGiven.get() > 1, "batches of more than one frame were read");
    }
  }
}
