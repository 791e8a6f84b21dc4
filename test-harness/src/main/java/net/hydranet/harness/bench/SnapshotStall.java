package net.hydranet.harness.bench;

import java.util.Arrays;
import java.util.Locale;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.metrics.PlaneSnapshot;

/**
 * How long the sampler's census of the connection tables holds a forwarding thread: the redirector
 * of {@link BenchFrames#plane} (a 1M-flow IPv4 table, the 64K-flow IPv6 one), empty and then with
 * every flow of {@link FlowFrames} open (the IPv4 table full), and for each the longest time one
 * command of the census kept the thread (what a packet arriving then waits) and the whole census.
 * Not started: the commands run on this thread, timed one by one.
 *
 * <pre>
 * java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.SnapshotStall 7
 * </pre>
 */
public final class SnapshotStall {
  private SnapshotStall() {}

  /** Argument: censuses per table state (default 7). */
  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    BenchFrames.DiscardPort[] ports = new BenchFrames.DiscardPort[3];
    ForwardingPlane plane = BenchFrames.plane(9000, FlowFrames.FLOWS, ports);
    report("empty", plane, runs);
    FlowFrames.openAll(plane.path(), BenchFrames.slot());
    report(plane.path().flows().size() + " flows", plane, runs);
  }

  private static void report(String label, ForwardingPlane plane, int runs) {
    double[] longest = new double[runs];
    double[] whole = new double[runs];
    int[] steps = new int[runs];
    int flows = 0;
    for (int r = -2; r < runs; r++) {
      PlaneSnapshot.Census census = PlaneSnapshot.census(plane, true);
      long most = 0;
      long all = 0;
      int n = 0;
      for (int lane = 0; lane < plane.pipelines(); lane++) {
        boolean more = true;
        while (more) {
          long t0 = System.nanoTime();
          more = census.step(plane, lane);
          long t = System.nanoTime() - t0;
          most = Math.max(most, t);
          all += t;
          n++;
        }
      }
      PlaneSnapshot s = census.finish(plane);
      flows = s.flowsPerTarget().values().stream().mapToInt(Integer::intValue).sum();
      if (r >= 0) {
        longest[r] = most / 1e6;
        whole[r] = all / 1e6;
        steps[r] = n;
      }
    }
    Arrays.sort(longest);
    Arrays.sort(whole);
    System.out.printf(
        Locale.ROOT,
        "%-14s live flows counted %d: longest command %.3f ms (median of %d; max %.3f), whole"
            + " census %.2f ms in %d commands%n",
        label,
        flows,
        longest[runs / 2],
        runs,
        longest[runs - 1],
        whole[runs / 2],
        steps[0]);
  }
}
