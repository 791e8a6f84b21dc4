package net.hydranet.harness.bench;

import java.util.Arrays;
import java.util.Locale;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.metrics.PlaneSnapshot;

public final class SnapshotStallBefore {
  private SnapshotStallBefore() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    BenchFrames.DiscardPort[] ports = new BenchFrames.DiscardPort[3];
    ForwardingPlane plane = BenchFrames.plane(9000, FlowFrames.FLOWS, ports);
    plane.path().tick(System.nanoTime());
    report("empty", plane, runs);
    FlowFrames.openAll(plane.path(), BenchFrames.slot());
    report(plane.path().flows().size() + " flows", plane, runs);
  }

  private static void report(String label, ForwardingPlane plane, int runs) {
    double[] whole = new double[runs];
    int flows = 0;
    for (int r = -2; r < runs; r++) {
      long t0 = System.nanoTime();
      PlaneSnapshot s = PlaneSnapshot.read(plane, true);
      long t = System.nanoTime() - t0;
      flows = s.flowsPerTarget().values().stream().mapToInt(Integer::intValue).sum();
      if (r >= 0) whole[r] = t / 1e6;
    }
    Arrays.sort(whole);
    System.out.printf(Locale.ROOT, "%-14s live flows counted %d: one command (the whole walk) %.2f ms median of %d (min %.2f, max %.2f)%n",
        label, flows, whole[runs / 2], runs, whole[0], whole[runs - 1]);
  }
}
