package net.hydranet.hydraweb;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fixed-bucket histogram of durations with one writer (an event loop) and any number of readers.
 * Recording is a short scan of the bounds and two release-ordered stores: no allocation, no lock,
 * no boxing, so it may sit on the hit path.
 *
 * <p>The bounds are log-spaced, 1-2-5 in each decade from 10 µs to 10 s: 19 bounds, each 2 or 2.5
 * times the one below, so a quantile read from them (Prometheus's {@code histogram_quantile}) lies
 * in the right bucket and is off by less than that bucket's width, at most 150 % of its lower
 * bound. Bucket {@code i} counts the durations ≤ {@code boundNanos(i)}, Prometheus's {@code le};
 * one more bucket counts what lies above the last bound.
 */
public final class LatencyHistogram {
  private static final long[] BOUNDS_NANOS = {
    10_000L,
    20_000L,
    50_000L,
    100_000L,
    200_000L,
    500_000L,
    1_000_000L,
    2_000_000L,
    5_000_000L,
    10_000_000L,
    20_000_000L,
    50_000_000L,
    100_000_000L,
    200_000_000L,
    500_000_000L,
    1_000_000_000L,
    2_000_000_000L,
    5_000_000_000L,
    10_000_000_000L,
  };

  /** Number of finite bounds. */
  public static final int BOUNDS = BOUNDS_NANOS.length;

  private static final int SUM = BOUNDS + 1;

  // [0, BOUNDS): counts per bucket (not cumulative); [BOUNDS]: above the last bound; [SUM]: ns.
  private final AtomicLongArray cells = new AtomicLongArray(BOUNDS + 2);

  /** The upper bound of bucket {@code i}, in nanoseconds. */
  public static long boundNanos(int i) {
    return BOUNDS_NANOS[i];
  }

  /** Every bound, in nanoseconds (a copy). */
  public static long[] boundsNanos() {
    return BOUNDS_NANOS.clone();
  }

  /** The bucket a duration falls in: the first bound it does not exceed, or {@link #BOUNDS}. */
  static int bucket(long nanos) {
    int i = 0;
    while (i < BOUNDS && nanos > BOUNDS_NANOS[i]) {
      i++; // a hit falls in the first three or four: a handful of compares
    }
    return i;
  }

  /** Records one duration; from the owning thread only. A negative one counts as 0. */
  public void record(long nanos) {
    long d = Math.max(0, nanos);
    int i = bucket(d);
    cells.lazySet(i, cells.get(i) + 1);
    cells.lazySet(SUM, cells.get(SUM) + d);
  }

  /**
   * What the histograms hold together, from any thread. A reader racing a writer may see the sum
   * one record behind the buckets; the counts are always consistent with each other, because the
   * total is their sum.
   */
  public static Snapshot snapshot(Iterable<LatencyHistogram> histograms) {
    long[] perBucket = new long[BOUNDS + 1];
    long sum = 0;
    for (LatencyHistogram h : histograms) {
      for (int i = 0; i <= BOUNDS; i++) {
        perBucket[i] += h.cells.get(i);
      }
      sum += h.cells.get(SUM);
    }
    long[] cumulative = new long[BOUNDS];
    long running = 0;
    for (int i = 0; i < BOUNDS; i++) {
      running += perBucket[i];
      cumulative[i] = running;
    }
    return new Snapshot(cumulative, running + perBucket[BOUNDS], sum);
  }

  /**
   * Cumulative counts per bound ({@code cumulative[i]} durations ≤ {@code boundNanos(i)}), the
   * total count (the {@code +Inf} bucket) and the sum of the durations in nanoseconds.
   */
  public record Snapshot(long[] cumulative, long count, long sumNanos) {}
}
