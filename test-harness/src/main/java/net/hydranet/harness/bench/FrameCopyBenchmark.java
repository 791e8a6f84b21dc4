package net.hydranet.harness.bench;

import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.pipeline.FrameSlot;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The baseline of {@link PipelineBenchmark}: only its per-packet copy of a prebuilt frame into the
 * slot, so the pipeline's own cost is the difference.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FrameCopyBenchmark {
  @Param({"64", "576", "1500"})
  public int size;

  private BenchFrames frames;
  private UnsafeBuffer slot;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    frames = BenchFrames.build(true, size);
    slot = BenchFrames.slot();
  }

  /** The copy alone; returns a byte of it so the copy cannot be dropped. */
  @Benchmark
  public byte copy() {
    int i = next;
    next = (i + 1) & (BenchFrames.COUNT - 1);
    int length = frames.length;
    slot.putBytes(FrameSlot.HEADROOM, frames.frames, frames.offset(i), length);
    return slot.getByte(FrameSlot.HEADROOM + length - 1);
  }
}
