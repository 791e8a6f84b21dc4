package net.hydranet.harness.bench;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.harness.fixture.SampleTopology;
import org.agrona.MutableDirectBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Aggregate frames per second of {@code pipelines} whole forwarding pipelines without I/O: each has
 * its own receive thread, Disruptor ring, forwarding thread, element chain (connection table,
 * counters) and discarding ports, as {@code hydranet redirector} runs them, and its receive thread
 * is fed by an endless in-memory source that copies prebuilt frames ({@link BenchFrames}, 1,024
 * flows each) into the ring's slots, as a capture would. One operation is {@link #BATCH} frames
 * processed by all pipelines together, so ops/s is frames/s. The JMH thread only sleeps between
 * looks at the counters (1 ms), so the pipelines' threads have the cores.
 *
 * <ul>
 *   <li>{@code inlineBurst=32} (the default of {@code limits.inlineBurst}): two threads per
 *       pipeline under load, capture on one and the chain on the other.
 *   <li>{@code inlineBurst=2147483647}: the receive thread runs every frame itself (the forwarding
 *       thread never gets one), one thread per pipeline: the chain's own scaling.
 * </ul>
 *
 * <p>At the end of a trial it checks that every frame took its path (no drop) and that the
 * pipelines' threads allocated less than a byte per frame (ThreadMXBean), and prints both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@OperationsPerInvocation(PipelinesBenchmark.BATCH)
public class PipelinesBenchmark {
  /** Frames per operation. */
  static final int BATCH = 16_384;

  @Param({"1", "2"})
  public int pipelines;

  @Param({"forward"})
  public String mode;

  @Param({"64"})
  public int size;

  @Param({"32", "2147483647"})
  public int inlineBurst;

  private ForwardingPlane plane;
  private Counters counters;
  private long next;
  private long[] threadIds;
  private boolean marked;
  private long allocatedBefore;
  private long cpuBefore;
  private long framesBefore;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    boolean redirect =
        switch (mode) {
          case "forward" -> false;
          case "redirect" -> true;
          default -> throw new IllegalArgumentException("mode forward or redirect, not " + mode);
        };
    BenchFrames.DiscardPort[][] ports = new BenchFrames.DiscardPort[pipelines][];
    plane = BenchFrames.plane(9000, FlowFrames.FLOWS, pipelines, inlineBurst, ports);
    counters = plane.counters();
    FrameSource[][] sources = new FrameSource[pipelines][];
    for (int p = 0; p < pipelines; p++) {
      sources[p] = new FrameSource[] {new LoopSource(BenchFrames.build(redirect, size))};
    }
    List<Long> before = hydranetThreads();
    plane.start(sources, Pipeline.Clock.LIVE, LiteBlockingWaitStrategy::new, null);
    // The pipelines' threads: those named hydranet-* that were not there before.
    List<Long> ids = hydranetThreads();
    ids.removeAll(before);
    if (ids.size() != 2 * pipelines) {
      throw new IllegalStateException(
          "expected " + 2 * pipelines + " pipeline threads, found " + ids.size());
    }
    threadIds = ids.stream().mapToLong(Long::longValue).toArray();
  }

  @Setup(Level.Iteration)
  public void mark() {
    next = counters.get(Counter.RX_FRAMES);
    if (!marked) {
      marked = true;
      // From the first iteration on: the set-up (tables, rings) is not per frame.
      allocatedBefore = allocated();
      cpuBefore = cpu();
      framesBefore = next;
    }
  }

  /** Waits until the pipelines together have processed {@link #BATCH} more frames. */
  @Benchmark
  public long frames() {
    next += BATCH;
    long now;
    while ((now = counters.get(Counter.RX_FRAMES)) < next) {
      LockSupport.parkNanos(1_000_000L);
    }
    return now;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    long frames = counters.get(Counter.RX_FRAMES) - framesBefore;
    long bytes = allocated() - allocatedBefore;
    long cpuNanos = cpu() - cpuBefore;
    plane.close();
    long outcome = counters.get("forward".equals(mode) ? Counter.FORWARDED : Counter.REDIRECTED);
    StringBuilder perPipeline = new StringBuilder();
    for (int p = 0; p < pipelines; p++) {
      perPipeline.append(p == 0 ? "" : ", ").append(plane.counters(p).get(Counter.RX_FRAMES));
    }
    System.out.printf(
        "%n%d pipeline(s), inlineBurst %d: %d frames (per pipeline: %s), %d %s, %d drops;"
            + " pipeline threads allocated %d bytes, %.4f per frame, and ran %.1f ns of CPU per"
            + " frame%n",
        pipelines,
        inlineBurst,
        counters.get(Counter.RX_FRAMES),
        perPipeline,
        outcome,
        mode,
        counters.drops(),
        bytes,
        frames == 0 ? 0.0 : (double) bytes / frames,
        frames == 0 ? 0.0 : (double) cpuNanos / frames);
    if (counters.drops() != 0 || outcome != counters.get(Counter.RX_FRAMES)) {
      throw new IllegalStateException(mode + ": frames did not take the intended path");
    }
    if (frames > 0 && bytes >= frames) {
      throw new IllegalStateException(
          "the pipeline threads allocated " + bytes + " bytes for " + frames + " frames");
    }
  }

  private long allocated() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long b : mx.getThreadAllocatedBytes(threadIds)) {
      sum += Math.max(0, b);
    }
    return sum;
  }

  /**
   * CPU time of the pipelines' threads: on a machine shared with other work, frames per CPU-second
   * says what a pipeline costs when wall-clock rates only say how much of the machine it got.
   */
  private long cpu() {
    java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : threadIds) {
      sum += Math.max(0, mx.getThreadCpuTime(id));
    }
    return sum;
  }

  private static List<Long> hydranetThreads() {
    List<Long> ids = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("hydranet-")) {
        ids.add(t.getId());
      }
    }
    return ids;
  }

  /** An endless capture: the prebuilt frames, one after another, arriving on client0. */
  static final class LoopSource implements FrameSource {
    private final BenchFrames frames;
    private int next;

    LoopSource(BenchFrames frames) {
      this.frames = frames;
    }

    @Override
    public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
      int i = next;
      next = (i + 1) & (BenchFrames.COUNT - 1);
      buffer.putBytes(offset, frames.frames, frames.offset(i), frames.length);
      meta.ingress = SampleTopology.CLIENT0;
      meta.timestampNanos = 0;
      return frames.length;
    }

    @Override
    public void close() {}
  }
}
