package net.hydranet.hydraweb.manager;

import java.util.Arrays;
import net.hydranet.hydraweb.channel.AppMessage;

/**
 * One replica's latency histogram as the manager exports it: the replica's reports (counts since it
 * started) summed across the times its counts start again, as its hits and misses are, so the
 * exported counts only grow. Guarded by the replica's lock.
 *
 * <p>A report where any bucket's own count or the sum is below the last report's is a fresh start
 * and is added whole; otherwise the differences are added. New bounds start the totals again
 * (Prometheus sees new series). Sums saturate at {@link Long#MAX_VALUE} rather than wrap, so
 * whatever a replica sends the totals stay a valid histogram.
 */
final class LatencyTotals {
  private long[] bounds;
  private long[] seen; // the last report, per bucket (not cumulative), the +Inf bucket last
  private long seenSum;
  private long[] total; // per bucket, as seen
  private long totalSum;

  void add(AppMessage.Latency l) {
    long[] b = l.boundsNanos();
    long[] per = perBucket(l);
    if (bounds == null || !Arrays.equals(bounds, b)) {
      bounds = b;
      seen = new long[per.length];
      seenSum = 0;
      total = new long[per.length];
      totalSum = 0;
    }
    boolean fresh = l.sumNanos() < seenSum;
    for (int i = 0; i < per.length && !fresh; i++) {
      fresh = per[i] < seen[i];
    }
    for (int i = 0; i < per.length; i++) {
      total[i] = saturatedAdd(total[i], fresh ? per[i] : per[i] - seen[i]);
    }
    totalSum = saturatedAdd(totalSum, fresh ? l.sumNanos() : l.sumNanos() - seenSum);
    seen = per;
    seenSum = l.sumNanos();
  }

  /** The totals as a histogram, or null before the first report. */
  AppMessage.Latency snapshot() {
    if (bounds == null) {
      return null;
    }
    long[] cumulative = new long[bounds.length];
    long running = 0;
    for (int i = 0; i < bounds.length; i++) {
      running = saturatedAdd(running, total[i]);
      cumulative[i] = running;
    }
    return new AppMessage.Latency(
        bounds, cumulative, saturatedAdd(running, total[bounds.length]), totalSum);
  }

  private static long[] perBucket(AppMessage.Latency l) {
    int n = l.bounds();
    long[] per = new long[n + 1];
    long below = 0;
    for (int i = 0; i < n; i++) {
      per[i] = l.cumulative(i) - below;
      below = l.cumulative(i);
    }
    per[n] = l.count() - below;
    return per;
  }

  private static long saturatedAdd(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s; // both are ≥ 0: a negative sum is an overflow
  }
}
