package net.hydranet.harness.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * {@link PipelineBenchmark#process} timed by the calling thread's CPU time instead of wall time,
 * for A/B comparisons on a shared machine: with a load average of 30 on two cores, JMH's wall-clock
 * figures swung 5-50× between runs, CPU time per packet about ±30 %. Usage, from the repository
 * root (the benchmark reads {@code config/replay-sample.yaml}):
 *
 * <pre>
 * java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.CpuTimePipeline \
 *     MODE SIZE [ROUNDS [PACKETS [FLOWS]]]
 * </pre>
 *
 * It warms up for three rounds' worth of packets, then prints the median and minimum CPU
 * nanoseconds per packet over the rounds and the bytes the thread allocated per packet. Alternate
 * two jars (A B B A …) in one sitting and compare the same statistic.
 */
public final class CpuTimePipeline {
  private CpuTimePipeline() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: CpuTimePipeline MODE SIZE [ROUNDS [PACKETS [FLOWS]]]");
      System.exit(2);
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
    int packets = args.length > 3 ? Integer.parseInt(args[3]) : 1_000_000;
    PipelineBenchmark b = new PipelineBenchmark();
    b.mode = args[0];
    b.size = Integer.parseInt(args[1]);
    b.scrape = "off";
    b.flows = args.length > 4 ? args[4] : "1K";
    b.setUp();
    for (int i = 0; i < 3 * packets; i++) {
      b.process();
    }
    double[] nanos = new double[rounds];
    long allocated = threads.getCurrentThreadAllocatedBytes();
    for (int r = 0; r < rounds; r++) {
      long start = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < packets; i++) {
        b.process();
      }
      nanos[r] = (threads.getCurrentThreadCpuTime() - start) / (double) packets;
    }
    allocated = threads.getCurrentThreadAllocatedBytes() - allocated;
    b.tearDown();
    double[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(
        "%s %d flows=%s median %.1f min %.1f ns/packet (thread CPU) alloc %.6f B/packet rounds %s%n",
        b.mode,
        b.size,
        b.flows,
        sorted[rounds / 2],
        sorted[0],
        allocated / (double) rounds / packets,
        Arrays.toString(nanos));
  }
}
