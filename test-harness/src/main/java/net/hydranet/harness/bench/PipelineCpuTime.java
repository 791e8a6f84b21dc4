package net.hydranet.harness.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * {@link PipelineBenchmark}'s variants in one JVM, timed by the thread's CPU time rather than the
 * wall clock, for a shared machine: JMH's wall-clock figures count the time the thread waits for a
 * core, which at a load average of 15 on two cores triples them, while CPU time does not (cache and
 * memory contention from the neighbours still counts). The variants are set up side by side and run
 * in alternating blocks of 2M packets, so a change in load hits all alike; it prints the median
 * per-packet time of each and its ratio to the first.
 *
 * <pre>
 * java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.PipelineCpuTime redirect 9
 * java -cp … PipelineCpuTime redirect 9 0/off,1M/off,0/on,1M/on
 * </pre>
 *
 * <p>A variant is {@code flows/lookAhead} ({@link PipelineBenchmark#flows}, {@link
 * PipelineBenchmark#lookAhead}); the default is {@code 0/off,1M/off}, the table off against 1M live
 * flows.
 */
public final class PipelineCpuTime {
  private static final int PACKETS_PER_BLOCK = 2_000_000;
  private static final int WARMUP_BLOCKS = 3;

  private PipelineCpuTime() {}

  /** Arguments: mode (forward, redirect), blocks per variant (default 9), variants. */
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "redirect";
    int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 9;
    String[] names = (args.length > 2 ? args[2] : "0/off,1M/off").split(",");
    PipelineBenchmark[] variants = new PipelineBenchmark[names.length];
    for (int v = 0; v < names.length; v++) {
      String[] parts = names[v].split("/", -1);
      if (parts.length != 2) {
        throw new IllegalArgumentException("variant " + names[v] + " is not flows/lookAhead");
      }
      variants[v] = new PipelineBenchmark();
      variants[v].mode = mode;
      variants[v].size = 64;
      variants[v].scrape = "off";
      variants[v].flows = parts[0];
      variants[v].lookAhead = parts[1];
      variants[v].setUp();
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    double[][] nanos = new double[names.length][blocks];
    for (int b = -WARMUP_BLOCKS; b < blocks; b++) {
      for (int v = 0; v < names.length; v++) {
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
    double[] medians = new double[names.length];
    for (int v = 0; v < names.length; v++) {
      double[] sorted = nanos[v].clone();
      Arrays.sort(sorted);
      medians[v] = sorted[blocks / 2];
      System.out.printf(
          "%s/64 flows/lookAhead=%s: CPU ns/packet median %.1f (min %.1f, max %.1f) over %d"
              + " blocks: %s%n",
          mode,
          names[v],
          medians[v],
          sorted[0],
          sorted[blocks - 1],
          blocks,
          Arrays.toString(Arrays.stream(nanos[v]).map(x -> Math.round(x * 10) / 10.0).toArray()));
    }
    for (int v = 1; v < names.length; v++) {
      System.out.printf(
          "%s/64 ratio %s / %s: %.2f%n", mode, names[v], names[0], medians[v] / medians[0]);
    }
    for (PipelineBenchmark bench : variants) {
      bench.tearDown();
    }
  }
}
