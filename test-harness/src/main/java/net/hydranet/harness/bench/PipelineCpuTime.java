package net.hydranet.harness.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * {@link PipelineBenchmark}'s {@code flows=0} against {@code flows=1M} in one JVM, timed by the
 * thread's CPU time rather than the wall clock, for a shared machine: JMH's wall-clock figures
 * count the time the thread waits for a core, which at a load average of 15 on two cores triples
 * them, while CPU time does not (cache and memory contention from the neighbours still counts).
 * Both variants are set up side by side and run in alternating blocks of 2M packets, so a change in
 * load hits both alike; it prints the median per-packet time of each and their ratio.
 *
 * <pre>
 * java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.PipelineCpuTime redirect 9
 * </pre>
 */
public final class PipelineCpuTime {
  private static final int PACKETS_PER_BLOCK = 2_000_000;
  private static final int WARMUP_BLOCKS = 3;

  private PipelineCpuTime() {}

  /** Arguments: mode (forward, redirect), then blocks per variant (default 9). */
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "redirect";
    int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 9;
    String[] flows = {"0", "1M"};
    PipelineBenchmark[] variants = new PipelineBenchmark[flows.length];
    for (int v = 0; v < flows.length; v++) {
      variants[v] = new PipelineBenchmark();
      variants[v].mode = mode;
      variants[v].size = 64;
      variants[v].scrape = "off";
      variants[v].flows = flows[v];
      variants[v].setUp();
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    double[][] nanos = new double[flows.length][blocks];
    for (int b = -WARMUP_BLOCKS; b < blocks; b++) {
      for (int v = 0; v < flows.length; v++) {
        PipelineBenchmark bench = variants[v];
        long start = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < PACKETS_PER_BLOCK; i++) {
          bench.process();
        }
        long used = threads.getCurrentThreadCpuTime() - start;
        if (b >= 0) {
          nanos[v][b] = (double) used / PACKETS_PER_BLOCK;
        }
      }
    }
    double[] medians = new double[flows.length];
    for (int v = 0; v < flows.length; v++) {
      double[] sorted = nanos[v].clone();
      Arrays.sort(sorted);
      medians[v] = sorted[blocks / 2];
      System.out.printf(
          "%s/64 flows=%s: CPU ns/packet median %.1f (min %.1f, max %.1f) over %d blocks: %s%n",
          mode,
          flows[v],
          medians[v],
          sorted[0],
          sorted[blocks - 1],
          blocks,
          Arrays.toString(Arrays.stream(nanos[v]).map(x -> Math.round(x * 10) / 10.0).toArray()));
    }
    System.out.printf("%s/64 ratio 1M / 0: %.2f%n", mode, medians[1] / medians[0]);
    for (PipelineBenchmark bench : variants) {
      bench.tearDown();
    }
  }
}
